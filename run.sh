#!/usr/bin/env bash
# Set up, ingest the demo documents into the default index (index/), and show a search.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
.venv/bin/python ingest.py samples --manifest samples/manifest.csv
.venv/bin/python -m kb search "乡村振兴" --limit 5
