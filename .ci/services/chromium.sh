#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser tests (driven by the npm package playwright-core, which
# never downloads a browser here). Sourced by .ci/run; installs only when it is missing.
if [ ! -x /usr/bin/chromium ]; then
  echo "ci: installing chromium (browser tests)"
  if [ "${apt_updated:-0}" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
