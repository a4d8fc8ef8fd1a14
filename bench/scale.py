"""The scale series (k copies of the corpus, k = 1 … 16) and where one machine ends.

Each copy's files get a marker line, so none is a duplicate of another; every size is ingested
from scratch in its own folder. Per size: ingest time and MB/s, peak RSS of the ingest, index
size, query latency (the same queries), and the resident memory of a server that has answered
queries. ``ceiling`` fits the series with straight lines (latency and memory against the text
ingested) and says where full-query p95 crosses 100 ms and server memory 8 GB.
"""

from __future__ import annotations

import os
import pickle
import urllib.parse
from pathlib import Path

FACTORS = (1, 2, 4, 8, 16)
P95_LIMIT_MS = 100.0
RSS_LIMIT_MB = 8 * 1024


def corpus_copies(files, folder: Path, k: int) -> list[Path]:
    corpus = folder / "corpus"
    done = folder / "corpus.done"
    if not done.exists():
        root = Path(os.path.commonpath([str(p.parent) for p in files]))
        for copy in range(k):
            for path in files:
                target = corpus / f"copy{copy}" / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes() + f"\n\n副本{copy}\n".encode("utf-8"))
        done.write_text("ok")
    return sorted(p for p in corpus.rglob("*") if p.is_file())


def server_rss(index_dir: Path, queries: list[str], seconds: float = 5.0) -> float:
    """RSS of a server (python -m web) after answering the queries as pages for a few seconds."""
    from bench import load

    servers = load.Servers(index_dir, processes=1)
    try:
        paths = [f"/?q={urllib.parse.quote(q)}" for q in queries]
        load.run(servers.port, paths, 2, seconds)
        return servers.rss_mb()
    finally:
        servers.stop()


def series(files, queries, work: Path, build, latency, factors=FACTORS, log=print) -> dict:
    """``build(name, folder, inputs)`` and ``latency(engines, queries)`` are the runner's."""
    from bench.engines.ours import Ours

    results = {}
    for k in factors:
        folder = work / f"scale{k}x"
        listed = corpus_copies(files, folder, k)
        inputs = folder / "inputs.pickle"
        inputs.write_bytes(pickle.dumps([str(p) for p in listed]))
        text_mb = sum(p.stat().st_size for p in listed) / 1e6
        log(f"scale {k}x: ingest {len(listed)} files, {text_mb:.0f} MB ...")
        built = build("ours", folder / "index", inputs)
        engine = Ours(folder / "index")
        engine.open()
        lat = latency({"ours": engine}, queries)["ours"]
        segments = len(engine.kb.snapshot().postings.segments)
        engine.close()
        rss = server_rss(folder / "index", queries)
        results[f"{k}x"] = {
            "files": len(listed), "text_mb": round(text_mb, 1), "ingest_s": built["seconds"],
            "mb_per_s": round(text_mb / built["seconds"], 2), "peak_rss_mb": built["peak_rss_mb"],
            "index_mb": round(built["size_bytes"] / 1e6, 1), "segments": segments,
            "full_p95_ms": lat["full"]["p95_ms"], "full_median_ms": lat["full"]["median_ms"],
            "top10_p95_ms": lat["top10"]["p95_ms"], "server_rss_mb": rss}
        log(f"scale {k}x: {results[f'{k}x']}")
    base = results[f"{factors[0]}x"]
    for r in results.values():
        r["p95_vs_1x"] = round(r["full_p95_ms"] / base["full_p95_ms"], 2)
        r["mb_per_s_vs_1x"] = round(r["mb_per_s"] / base["mb_per_s"], 2)
    return results


def _line(xs, ys):
    """Least-squares a + b x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0
    return my - b * mx, b


def ceiling(results: dict) -> dict:
    """Where the straight lines through the series cross 100 ms full-query p95 and 8 GB server
    RSS: in GB of text and in documents (documents per GB as in the series)."""
    rows = list(results.values())
    if len(rows) < 2:
        return {}
    gb = [r["text_mb"] / 1000 for r in rows]
    docs_per_gb = rows[-1]["files"] / gb[-1]
    out = {"docs_per_gb": round(docs_per_gb)}
    for name, key, limit in (("p95_100ms", "full_p95_ms", P95_LIMIT_MS), ("rss_8gb", "server_rss_mb", RSS_LIMIT_MB)):
        a, b = _line(gb, [r[key] for r in rows])
        at = (limit - a) / b if b > 0 else None
        out[name] = {"intercept": round(a, 2), "per_gb": round(b, 2),
                     "gb_of_text": round(at, 1) if at else None,
                     "documents": round(at * docs_per_gb) if at else None}
    largest = rows[-1]
    out["per_gb_of_text"] = {"index_mb": round(largest["index_mb"] / gb[-1]),
                             "server_rss_mb": round(largest["server_rss_mb"] / gb[-1]),
                             "ingest_peak_rss_mb": round(largest["peak_rss_mb"] / gb[-1])}
    return out
