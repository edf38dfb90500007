#!/usr/bin/env bash
# Installs Debian's Chromium, which the real-browser linking test (test/http/link-browser.test.ts)
# drives with playwright-core (no browser download is possible here). Run it on purpose, as
# .ci/run does: `npm test` never installs anything, and without Chromium that one test skips.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "Chromium is already installed: $(/usr/bin/chromium --version)"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium package with apt-get (system-wide, as root) for the browser test..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "Installed $(/usr/bin/chromium --version)"
else
  echo "Chromium is not installed and cannot be installed here (this needs root and apt-get: apt-get install -y chromium); the browser test will be skipped." >&2
fi
