#!/usr/bin/env bash
# Storage test servers: OpenSSH's sshd (openssh-server) and rclone, installed when missing. Nothing is
# started here: the storage tests start their own sshd on a free loopback port with its own config, host
# key and test user (test/support/sshd.ts), and point rclone at it. Debian's package start is not needed
# (and port 22 is never used by the tests).
set -euo pipefail
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v rclone >/dev/null || need+=(rclone)
if [ "${#need[@]}" -gt 0 ]; then
  echo "ci: installing ${need[*]}"
  apt-get update -qq
  # the package would start the system sshd on port 22: a temporary policy-rc.d keeps it from starting
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; own_policy=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
fi
mkdir -p /run/sshd
