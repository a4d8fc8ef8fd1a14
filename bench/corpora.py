"""Where the benchmark corpora are (../shared), and a clear message when they are not."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = {
    "laws": SHARED / "corpus" / "laws" / "docs",
    "national-reports": SHARED / "corpus" / "national-reports" / "docs",
    "samples": ROOT / "samples",
}


def corpus_files(name: str) -> list[Path]:
    """Every document file of a corpus, sorted; exits with a message if the corpus is absent."""
    root = CORPORA[name]
    if not root.exists():
        sys.exit(f"bench: corpus {name!r} not found at {root} (../shared is only on the team's machines)")
    suffixes = {".md", ".txt", ".html", ".docx", ".pdf"}
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))
