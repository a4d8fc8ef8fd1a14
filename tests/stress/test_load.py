"""Load: 50+ concurrent keep-alive clients against the production server on loopback (127.0.0.1).

Reports, beside the single-client rate of the same requests: throughput at 50 clients and the
ratio, p50/p95/p99 latency, errors, server memory; once with one server process (``python -m
web``: threads, one interpreter lock, so about one core) and once with two processes sharing the
listening socket (as ``gunicorn -w 2`` runs the site: both cores). No request may fail and the
server's memory must stay flat; the figures are printed, not asserted (a shared machine).
Bounded by default (6 s per run); KB_STRESS=full runs 60 clients for 30 s.
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.parse

import pytest

from server import Server
from stress_config import FULL
from support import ROOT

sys.path.insert(0, str(ROOT))
from bench import load  # noqa: E402  (the measuring is shared with python -m bench)

pytestmark = pytest.mark.stress

CLIENTS = 60 if FULL else 50
SECONDS = 30 if FULL else 6
PATHS = ["/?q={}", "/api/search?q={}", "/api/search?q={}&county=%E7%A5%81%E5%8E%BF", "/?q={}&sort=newest&page=2",
         "/api/facets?q={}"]
WORDS = ["统战", "乡村振兴", "民营经济 OR 宗教", '"统一战线"', "工作 -通知", "新乡贤", "title:总结", "祁县"]
URLS = [p.format(urllib.parse.quote(w)) for p in PATHS for w in WORDS]


def _answered(status: int, path: str) -> bool:
    return status == 200 or (status == 404 and "page=2" in path)  # a second page past the end


def _line(name: str, result: dict, rss: str) -> str:
    single, many = result["single"], result["many"]
    return (f"\nload, {name}: 1 client {single['rps']:.0f} req/s (p50 {single['p50_ms']} ms); {many['clients']} "
            f"keep-alive clients {many['rps']:.0f} req/s = {result['ratio']}x, latency p50 {many['p50_ms']} ms, "
            f"p95 {many['p95_ms']} ms, p99 {many['p99_ms']} ms; {rss}; "
            f"{single['errors'] + many['errors']} errors; cores used by the server(s) {single['cores']['servers']} -> "
            f"{many['cores']['servers']}, by the clients {many['cores']['clients']}, by other work on this machine "
            f"{single['cores']['others']} / {many['cores']['others']}")


def test_many_keepalive_clients(samples_index):
    server = Server(samples_index.index_dir, threads=8)
    rss_samples: list[float] = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            rss_samples.append(server.rss_mb())
            time.sleep(0.5)

    try:
        rss_start = server.rss_mb()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = load.compare(server.port, URLS, CLIENTS, SECONDS, ok=_answered, pids=(server.process.pid,))
        stop.set()
        sampler.join()
    finally:
        errors = server.stop()
    print(_line("one process (python -m web)", result,
                f"server RSS {rss_start:.0f} -> {max(rss_samples):.0f} MB"))
    failures = result["single"]["failures"] + result["many"]["failures"]
    assert not failures, failures
    assert "Traceback" not in errors
    half = len(rss_samples) // 2
    assert max(rss_samples[half:]) <= max(rss_samples[:half]) * 1.25 + 20  # flat, not growing


def test_two_processes_share_the_load(samples_index):
    servers = load.Servers(samples_index.index_dir, processes=2, threads=8)
    try:
        result = load.compare(servers.port, URLS, CLIENTS, SECONDS, ok=_answered, pids=servers.pids)
        rss = servers.rss_mb()
    finally:
        servers.stop()
    print(_line("two processes, one socket", result, f"servers' RSS {rss:.0f} MB"))
    failures = result["single"]["failures"] + result["many"]["failures"]
    assert not failures, failures
    assert "Traceback" not in servers.errors()
