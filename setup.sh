#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment in .venv: the exact versions in
# requirements.txt, then the project itself in editable mode (the `kb` command and its entry points,
# from pyproject.toml). Safe to run again: it reinstalls only when either file has changed.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
  echo "setup.sh: Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))" >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# the project itself, editable (and its C module where a compiler is found): the build backend
# (setuptools) is pinned in requirements.txt, so no download
install_project() {
  PYTHONWARNINGS="ignore:Editable installation" \
    .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
}
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt pyproject.toml setup.py kb/*_c.c | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x .venv/bin/kb ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  install_project
  echo "$want" > "$stamp"
  installed=1
fi
# The C inner loops are optional (setup.py): build them if a compiler has come since, else say so.
uncompiled() {  # the extensions (kb/*_c.c, as setup.py builds them) that do not import
  .venv/bin/python -c 'import importlib, pathlib
for source in sorted(pathlib.Path("kb").glob("*_c.c")):
    try:
        importlib.import_module("kb." + source.stem)
    except ImportError:
        print("kb." + source.stem, end=" ")'
}
if [ -n "$(uncompiled)" ]; then
  if [ -z "${installed:-}" ] && command -v "${CC:-cc}" >/dev/null 2>&1; then
    install_project
  fi
  missing=$(uncompiled)
  if [ -n "$missing" ]; then
    echo "setup.sh: note: not compiled: ${missing}(no C compiler?); searches and ingest run in numpy and" \
      "Python instead, slower. Install a C compiler and the Python headers (Debian: apt-get install gcc" \
      "python3-dev) and run ./setup.sh again" >&2
  fi
fi
# The project's modules compiled ahead (pip does this for installed packages, not for an editable
# project): where PYTHONDONTWRITEBYTECODE is set, every process (each ingest worker, each CLI
# command) would otherwise compile kb/ again, ~0.1 s of its start. Stale files are ignored by Python.
.venv/bin/python -m compileall -q -j 0 kb web ingest.py >/dev/null || true
