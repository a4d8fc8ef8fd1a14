"""Load against the production server on loopback: throughput and latency at 1 and at N keep-alive
clients, the same requests, with the shipped server: one process (``python -m web``) or several
forked on one listening socket (``python -m web --processes N``, what ``gunicorn -w N`` does). Used by ``python -m bench``
(section ``concurrency``) and by the load campaign (``tests/stress/test_load.py``).

Only 127.0.0.1: the servers bind to loopback and the clients connect there.
"""

from __future__ import annotations

import gc
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Servers:
    """``processes`` server processes on one loopback port (1: ``python -m web`` itself)."""

    def __init__(self, index_dir: Path, processes: int = 1, threads: int | None = None, env: dict | None = None):
        self.index_dir = Path(index_dir)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KB_INDEX": str(index_dir), **(env or {})}
        self.log = tempfile.TemporaryFile()  # stderr (a file, not a pipe nobody reads)
        self.port = free_port()
        # the shipped server: ``python -m web --processes N`` (N forked servers on one socket)
        # (threads: the shipped default unless given)
        self.proc = subprocess.Popen([sys.executable, "-m", "web", "--index", str(index_dir), "--port",
                                      str(self.port), "--processes", str(processes)]
                                     + (["--threads", str(threads)] if threads else []),
                                     cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        self.processes = processes
        self._wait()

    def _wait(self, timeout: float = 60):
        deadline = time.monotonic() + timeout
        for _ in range(self.processes):  # every process answers before the clients start (one probe
            while True:                   # each is not a guarantee with a shared socket, but each has loaded by then)
                try:
                    with urllib.request.urlopen(f"http://{HOST}:{self.port}/health", timeout=10) as r:
                        r.read()
                    break
                except OSError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        self.stop()
                        raise RuntimeError("the server did not start")
                    time.sleep(0.1)
        time.sleep(0.5 * (self.processes - 1))

    @property
    def pids(self) -> tuple:
        """The server processes: the parent, and its forked servers when there are several."""
        from bench.measure import children

        return (self.proc.pid, *children(self.proc.pid))

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return round(total / 1024, 1)

    def stop(self):
        self.proc.terminate()  # the parent stops its forked servers
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def errors(self) -> str:
        """What the servers wrote to stderr (call after ``stop``)."""
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace")
        self.log.close()
        return text


def _jiffies(pid: int | None = None) -> int:
    """CPU time used so far (clock ticks): by a process, or by the whole machine (busy, not idle)."""
    try:
        if pid is None:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            return sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def run(port: int, paths: list[str], clients: int, seconds: float, seed: int = 1, ok=None,
        pids: tuple = ()) -> dict:
    """``clients`` threads, one keep-alive connection each, requesting random ``paths`` for
    ``seconds``: requests per second, latency percentiles (ms), failures (``ok(status, path)``
    decides what counts as an answer; default: 200), and the cores used meanwhile by the servers
    (``pids``), by the clients (this process) and by everything else on the machine."""
    ok = ok or (lambda status, path: status == 200)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    gate = threading.Barrier(clients + 1)

    def client(n: int):
        rng = random.Random(seed * 1000 + n)
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        mine, bad = [], []
        gate.wait()
        while not stop.is_set():
            path = rng.choice(paths)
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if not ok(response.status, path):
                    bad.append(f"{response.status} {path}")
            except (OSError, http.client.HTTPException) as exc:
                bad.append(f"{type(exc).__name__} {path}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=120)
            mine.append(time.perf_counter() - began)
        connection.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    # The clients' own pauses are not the server's latency: a full collection of this process's
    # heap (in ``python -m bench`` it holds the corpus) stops every client thread at once. Frozen,
    # the collector passes over the heap only the clients make.
    gc.collect()
    gc.freeze()
    gate.wait()
    began = time.monotonic()
    mine = os.getpid()
    before = [_jiffies(), _jiffies(mine)] + [_jiffies(pid) for pid in pids]
    time.sleep(seconds)
    after = [_jiffies(), _jiffies(mine)] + [_jiffies(pid) for pid in pids]
    stop.set()
    for t in threads:
        t.join(180)
    elapsed = time.monotonic() - began
    gc.unfreeze()
    used = [(b - a) / os.sysconf("SC_CLK_TCK") / seconds for a, b in zip(before, after)]
    cores = {"servers": round(sum(used[2:]), 2), "clients": round(used[1], 2),
             "others": round(max(0.0, used[0] - sum(used[1:])), 2)}
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 1) if latencies else None

    return {"clients": clients, "requests": len(latencies), "seconds": round(elapsed, 1),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "errors": len(failures), "failures": failures[:5], "cores": cores}


def compare(port: int, paths: list[str], clients: int, seconds: float, ok=None, pids: tuple = ()) -> dict:
    """One client, then ``clients``: both runs and the throughput ratio."""
    run(port, paths, 2, min(2.0, seconds / 3), ok=ok)  # warm the caches of every generation and thread
    single = run(port, paths, 1, seconds, ok=ok, pids=pids)
    many = run(port, paths, clients, seconds, ok=ok, pids=pids)
    return {"single": single, "many": many, "ratio": round(many["rps"] / single["rps"], 2) if single["rps"] else None}
