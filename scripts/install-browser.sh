#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core (no browser download is
# possible here). Installs it when missing and we are allowed to; otherwise those tests skip.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "installed $(/usr/bin/chromium --version)"
else
  echo "Chromium is not installed and cannot be installed here (need root and apt-get); browser tests will be skipped." >&2
fi
