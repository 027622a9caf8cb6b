#!/usr/bin/env bash
# One command from a fresh clone: install and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_chromium.sh
bash scripts/install_sip_tools.sh
exec .venv/bin/python -m pytest "$@"
