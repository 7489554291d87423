#!/usr/bin/env bash
# Create .venv with a system Python >= 3.11, put uv in it, and install the project pinned by
# requirements.lock. Usage: .ci/venv.sh [EXTRAS]   (EXTRAS defaults to "dev", e.g. "dev,package";
# "--uv-only" stops once uv is in the venv, for `make lock`).
set -euo pipefail
extras="${1:-dev}"
venv=.venv

find_python() {
  local cand
  for cand in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "venv: no Python >= 3.11 found (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [[ ! -x $venv/bin/python ]]; then
  py=$(find_python)
  echo "venv: creating $venv with $($py --version 2>&1)"
  if ! "$py" -m venv "$venv" 2>/dev/null; then
    # Debian without python3-venv has no ensurepip: make a bare venv, bring pip in from outside.
    rm -rf "$venv"
    "$py" -m venv --without-pip "$venv"
  fi
fi

if [[ ! -x $venv/bin/uv ]]; then
  if [[ -x $venv/bin/pip ]]; then
    $venv/bin/python -m pip install -q --disable-pip-version-check uv
  else
    py=$(find_python)
    "$py" -m pip --python "$venv/bin/python" install -q --disable-pip-version-check uv
  fi
fi

[[ $extras == --uv-only ]] && exit 0

constraints=()
if [[ -f requirements.lock ]]; then
  constraints=(-c requirements.lock)
else
  echo "venv: requirements.lock is missing; installing unpinned (run 'make lock')" >&2
fi
# --compile-bytecode: a cold start that compiles every module from source (no __pycache__, e.g.
# under PYTHONDONTWRITEBYTECODE) takes 3-4x longer than the 1.5 s target allows.
$venv/bin/uv pip install --python $venv/bin/python -q --compile-bytecode "${constraints[@]}" -e ".[$extras]"
$venv/bin/python -m compileall -q -j 0 src sync >/dev/null
