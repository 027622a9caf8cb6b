#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (a test tool's own browser download
# cannot work offline). Install it from the distribution's packages when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: install Debian's 'chromium' package (the browser tests need /usr/bin/chromium)" >&2
  exit 1
fi
echo "==> installing Debian's chromium for the browser tests"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
