#!/usr/bin/env bash
# One command from a fresh clone: install, train the demo call centre, and answer on http://127.0.0.1:5005.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/helpline run "$@"
