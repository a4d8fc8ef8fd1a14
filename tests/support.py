"""Helpers the tests import (conftest.py only holds fixtures: two conftest modules cannot both be imported as `conftest`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"


def shared(*parts: str) -> Path:
    """A path under ../shared, or skip the test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not present: {path} (../shared is only on the team's machines)")
    return path


def ingest_paths(paths, index_dir: Path, **kwargs):
    from kb.ingest import Ingest

    kwargs.setdefault("report", lambda line: None)
    return Ingest(index_dir, **kwargs).run([str(p) for p in paths])
