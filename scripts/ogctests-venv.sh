#!/usr/bin/env bash
# A virtualenv of its own for ogctests (PyPI: "a black box verifier for the OGC API
# Specification"), whose pinned dependencies (httpx <0.28, pyarrow <18, pytest <9, ...) must not
# meet ours: .venv-ogctests/ at the repository root. Idempotent: it creates the venv and installs
# ogctests only when that exact version is missing. The last line of its output (the only line on
# stdout) is the venv's python. tests/test_ogctests.py runs it.
#   bash scripts/ogctests-venv.sh              # PYTHON=python3.12 to choose the interpreter
set -euo pipefail
VERSION=0.1.15
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-ogctests"
python="$venv/bin/python"

installed() {
  [ -x "$python" ] && "$python" -c \
    "import importlib.metadata as m, sys; sys.exit(m.version('ogctests') != '$VERSION')" 2>/dev/null
}

# one installer at a time (parallel test runs), the lock outside the venv it may recreate
exec 9>"${TMPDIR:-/tmp}/odapp-ogctests-venv.lock"
if command -v flock >/dev/null; then flock 9; fi

if ! installed; then
  echo "creating $venv with ogctests==$VERSION" >&2
  "${PYTHON:-python3}" -m venv --clear "$venv" >&2
  "$python" -m pip install --quiet "ogctests==$VERSION" >&2
fi
if ! installed; then
  echo "ogctests $VERSION could not be installed in $venv" >&2
  exit 1
fi
echo "$python"
