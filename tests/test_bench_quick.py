"""The benchmark's quick mode runs end to end (so it cannot rot); its figures are printed, not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import ROOT


@pytest.mark.slow
def test_bench_quick_runs(tmp_path):
    report_path = tmp_path / "report.json"
    # ~2 min once bench/out holds the LeCaRD indexes; on a fresh clone (CI) building them comes first
    done = subprocess.run([sys.executable, "-m", "bench", "quick", "--json", str(report_path)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)  # the figures, for whoever reads the CI log
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert {"ingest", "latency", "recall", "coldstart"} <= set(report)
    assert {"ours", "naive"} <= set(report["ingest"])
    for section in ("## Ingest", "## Query latency", "## Recall against grep", "## Cold start"):
        assert section in done.stdout
