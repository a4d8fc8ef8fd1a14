"""``python -m bench.profile`` runs end to end on the demo samples (so it cannot rot); its figures
are printed, not asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from support import ROOT


def test_profile_prints_every_stage_and_both_routes():
    done = subprocess.run([sys.executable, "-m", "bench.profile", "--corpus", "samples", "--files", "30", "--rounds", "1"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    print(out)
    assert "## One document" in out and "## One request" in out
    for label in ("clean", "of which places", "of which jieba cut", "of which topics", "version sketch",
                  "add to the segment", "write the segment", "result page", "API search", "of which snippets",
                  "page template"):
        assert label in out, label
    # every row is a figure in milliseconds, and every stage ran (a stage that kb no longer calls
    # by the wrapped name would show 0.00)
    rows = [line for line in out.splitlines() if " ms " in line]
    assert len(rows) >= 20
    assert all(re.match(r"\s*\d+\.\d\d ms", line) for line in rows)
    assert all(float(line.split()[0]) > 0 for line in rows), [line for line in rows if float(line.split()[0]) == 0]
    assert "Traceback" not in done.stderr
