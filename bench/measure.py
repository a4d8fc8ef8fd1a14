"""Measuring: time a callable, sample the resident memory of a process tree, summarise samples."""

from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(ms: list[float]) -> dict:
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "n": len(ms)}


def children(pid: int) -> list[int]:
    """A process's child process ids (Linux /proc)."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        kids = []
        for task in tasks:
            text = (task / "children").read_text()
            kids.extend(int(x) for x in text.split())
        return kids
    except OSError:
        return []


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, summed (kB)."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
        stack.extend(children(p))
    return total


class PeakRSS:
    """Samples a process tree's summed RSS in a thread; ``peak_mb`` after ``stop()``."""

    def __init__(self, pid: int, every: float = 0.1):
        self.pid, self.every, self.peak_kb = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            time.sleep(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak_kb / 1024, 1)


def rss_mb(pid: int | None = None) -> float:
    return round(tree_rss_kb(pid or os.getpid()) / 1024, 1)
