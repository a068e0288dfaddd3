#!/usr/bin/env bash
# Creates the project's virtual environment, installing Debian's python3-venv first if needed.
set -euo pipefail
python="$1"; venv="$2"
if [ -x "$venv/bin/python" ]; then exit 0; fi
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "installing python3 and python3-venv from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev gcc >/dev/null
  python=python3
fi
"$python" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Minhu needs Python 3.11 or newer; {sys.version.split()[0]} found")
PY
"$python" -m venv "$venv"
