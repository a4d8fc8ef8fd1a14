#!/usr/bin/env bash
# Set up, ingest the demo documents into the default index (index/), and serve the site on
# http://127.0.0.1:5000/ (Ctrl-C stops it). Re-running is quick: unchanged files are skipped.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
.venv/bin/python ingest.py samples --manifest samples/manifest.csv
exec .venv/bin/python -m web "$@"
