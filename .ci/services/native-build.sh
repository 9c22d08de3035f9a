#!/usr/bin/env bash
# better-sqlite3 (pdr db import reads pdr_run's SQLite files with it) builds its native module at
# `npm ci` with node-gyp: it needs make, a C++ compiler and python3 (and Node's headers, which
# Debian's nodejs package ships in /usr/include/node). Installs only what is missing.
need=()
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
  echo "ci: installing ${need[*]} (native build of better-sqlite3)"
  apt_install "${need[@]}"
fi
