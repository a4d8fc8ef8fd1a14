"""Load: 50+ concurrent keep-alive clients against the production server on loopback.

Reports throughput and p50/p95/p99 latency; no request may fail and the server's memory must stay
flat. Bounded by default (10 s); KB_STRESS=full runs 60 clients for 30 s.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import urllib.parse

import pytest

from server import Server
from stress_config import FULL

pytestmark = pytest.mark.stress

CLIENTS = 60 if FULL else 50
SECONDS = 30 if FULL else 10
PATHS = ["/?q={}", "/api/search?q={}", "/api/search?q={}&county=%E7%A5%81%E5%8E%BF", "/?q={}&sort=newest&page=2",
         "/api/facets?q={}"]
WORDS = ["统战", "乡村振兴", "民营经济 OR 宗教", '"统一战线"', "工作 -通知", "新乡贤", "title:总结", "祁县"]


def test_many_keepalive_clients(samples_index):
    server = Server(samples_index.index_dir, threads=8)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    start_gate = threading.Barrier(CLIENTS + 1)

    def client(seed: int):
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)  # one keep-alive connection
        mine: list[float] = []
        start_gate.wait()
        while not stop.is_set():
            path = rng.choice(PATHS).format(urllib.parse.quote(rng.choice(WORDS)))
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200 and not (response.status == 404 and "page=2" in path):  # past the end
                    with lock:
                        failures.append(f"{response.status} {path}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(f"{type(exc).__name__} {path}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            mine.append(time.perf_counter() - began)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    rss_start = server.rss_mb()
    start_gate.wait()
    began = time.monotonic()
    rss_samples = []
    while time.monotonic() - began < SECONDS:
        time.sleep(1)
        rss_samples.append(server.rss_mb())
    stop.set()
    for t in threads:
        t.join(120)
    elapsed = time.monotonic() - began
    errors = server.stop()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print(f"\nload: {CLIENTS} keep-alive clients, {elapsed:.0f} s, {len(latencies)} requests = "
          f"{len(latencies) / elapsed:.0f} req/s; latency p50 {pct(50):.0f} ms, p95 {pct(95):.0f} ms, "
          f"p99 {pct(99):.0f} ms; server RSS {rss_start:.0f} -> {max(rss_samples):.0f} MB; "
          f"{len(failures)} failures")
    assert not failures, failures[:5]
    assert "Traceback" not in errors
    half = len(rss_samples) // 2
    assert max(rss_samples[half:]) <= max(rss_samples[:half]) * 1.25 + 20  # flat, not growing
