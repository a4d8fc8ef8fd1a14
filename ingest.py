#!/usr/bin/env python3
"""Ingest documents into the knowledge base: ``python ingest.py PATH... [--index DIR] ...``.

See ``python ingest.py --help``; the pipeline itself is ``kb.ingest``.
"""

import sys

from kb.cli import ingest_main

if __name__ == "__main__":
    sys.exit(ingest_main())
