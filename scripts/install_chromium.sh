#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (a test tool's own browser download
# cannot work offline). Install it from the distribution's packages when it is missing; where that is
# not possible (not root, no apt-get), say so: the browser tests then skip naming it (and fail under
# HELPLINE_REQUIRE_SERVICES=1).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: Chromium is missing and cannot be installed here (needs root and apt-get): the browser tests" \
       "will be skipped; install Debian's 'chromium' package to run them" >&2
  exit 0
fi
echo "==> installing Debian's chromium for the browser tests"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
