"""The benchmark: ``python -m bench all|quick [--corpus laws] [--engines ...] [--json OUT]``.

Every figure sits beside its baselines, measured in the same run (these machines are noisy:
medians, p95 and ratios). Sections: ingest (time, MB/s, index size and what each field costs, peak
RSS of the process tree), batch (an 800-document batch: start-up counts), query latency (top10 /
+facets / +facets+snippets), recall against grep and exact-first precision, LeCaRD ranking
(bench/lecard.py), cold start and server memory, concurrency (1 vs 50 keep-alive clients, one and
two server processes: bench/load.py), scale (1x … 16x and where one machine ends: bench/scale.py;
``all`` only).

``quick`` (< 2 min, what CI runs): the demo samples plus up to 120 laws when ../shared is present,
60 queries, 60 substrings, LeCaRD on 10 queries, no scale series.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import measure
from bench.corpora import BATCH, CORPORA, ROOT, batch_sample, corpus_files, prepare_docs
from bench.engines import VARIANTS
from bench.queries import sample_queries, sample_substrings

OUT = ROOT / "bench" / "out"
PY = sys.executable


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- ingest ----------------------------------------------------------------------------------------


def build_engine(name: str, folder: Path, inputs_file: Path) -> dict:
    """Build in a subprocess; time it and sample the summed RSS of its process tree."""
    shutil.rmtree(folder, ignore_errors=True)
    proc = subprocess.Popen([PY, "-m", "bench.build", name, str(folder), str(inputs_file)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    sampler = measure.PeakRSS(proc.pid)
    out, err = proc.communicate()
    peak = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"building {name} failed:\n{err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak
    return result


def ingest_section(engines, files, docs, work: Path, corpus_bytes: int, sizes: bool = True) -> dict:
    inputs = {"files": work / "inputs-files.pickle", "docs": work / "inputs-docs.pickle"}
    inputs["files"].write_bytes(pickle.dumps([str(p.resolve()) for p in files]))
    inputs["docs"].write_bytes(pickle.dumps(docs))
    from bench.engines.registry import make

    results = {}
    for name in engines:
        engine = make(name, work / name)
        _log(f"ingest: {name} ...")
        r = build_engine(name, work / name, inputs["files" if engine.reads_files else "docs"])
        r["mb_per_s"] = round(corpus_bytes / 1e6 / r["seconds"], 3)
        r["docs_per_s"] = round(len(docs) / r["seconds"], 1)
        results[name] = r
        _log(f"ingest: {name} {r['seconds']} s, {r['mb_per_s']} MB/s, peak RSS {r['peak_rss_mb']} MB")
    if "naive" in results:
        for r in results.values():
            r["speedup_vs_naive"] = round(results["naive"]["seconds"] / r["seconds"], 2)
    if "ours" in results and sizes:
        from bench.sizes import breakdown

        results["ours"]["sizes"] = breakdown(work / "ours", corpus_bytes)
    return results




def batch_section(engines, files, docs, work: Path, n: int = BATCH) -> dict:
    """The daily case: a batch of ``n`` documents into a new index, start-up included."""
    chosen = batch_sample(files, n)
    keys = {str(p.resolve()) for p in chosen}
    batch_bytes = sum(p.stat().st_size for p in chosen)
    folder = work / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    return ingest_section([e for e in engines if e in ("ours", "naive", "tantivy-jieba")], chosen,
                          [d for d in docs if d.key in keys], folder, batch_bytes, sizes=False)


# --- queries ----------------------------------------------------------------------------------------


def open_engines(names, work: Path) -> dict:
    from bench.engines.registry import make

    opened = {}
    for name in names:
        engine = make(name, work / name)
        engine.open()
        opened[name] = engine
    return opened


def latency_section(engines: dict, queries: list[str], warmup: int = 10, budget_s: float = 90.0,
                    at_least: int = 12) -> dict:
    """Median and p95 per engine and variant. Each variant starts from the engine opened afresh
    (its own caches empty, its files in the page cache) and ``warmup`` queries, then asks every
    query once: no variant profits from the caches another variant's pass filled (top10 used to
    run first and pay for the facets and full passes). A slow engine (the naive highlighter takes
    seconds, up to a minute, per query) stops warming up after a third of ``budget_s`` and timing
    after ``budget_s`` once ``at_least`` queries are timed; ``n`` says how many were."""
    results: dict = {}
    for name, engine in engines.items():
        results[name] = {}
        for variant in VARIANTS:
            engine.close()
            engine.open()
            warm_until = time.monotonic() + budget_s / 3
            for q in queries[:warmup]:
                engine.query(q, variant)
                if time.monotonic() > warm_until:
                    break
            times, failures = [], 0
            deadline = time.monotonic() + budget_s
            for q in queries:
                if time.monotonic() > deadline and len(times) >= at_least:
                    break
                started = time.perf_counter()
                try:
                    engine.query(q, variant)
                except Exception:  # a peer that cannot parse a query: count it, go on
                    failures += 1
                    continue
                times.append((time.perf_counter() - started) * 1000)
            results[name][variant] = {**measure.summary(times), "failed_queries": failures}
        _log(f"latency: {name} " + ", ".join(f"{v} p95 {results[name][v]['p95_ms']} ms" for v in VARIANTS))
    return results


def recall_section(engines: dict, docs, substrings: list[str]) -> dict:
    """Share of the documents grep finds (substring of the normalised clean text) that each engine
    returns; and, for ours, precision@10 of exact matches (they must rank first)."""
    from kb.analysis import normalize

    texts = {d.key: normalize(d.text) for d in docs}
    oracle = {s: {k for k, t in texts.items() if s in t} for s in substrings}
    # files with identical content are stored once (ingest reports the duplicate): finding one finds all
    twins: dict[str, set[str]] = {}
    for key, text in texts.items():
        twins.setdefault(text, set()).add(key)
    group_of = {key: group for group in twins.values() for key in group}
    results = {}
    for name, engine in engines.items():
        found = total = 0
        missed_queries = 0
        for s in substrings:
            expected = oracle[s]
            got = engine.matches(s)
            if got is None:
                break
            got = got | {twin for key in got & group_of.keys() for twin in group_of[key]}
            hit = len(expected & got)
            found += hit
            total += len(expected)
            missed_queries += hit < len(expected)
        else:
            results[name] = {"recall": round(found / max(1, total), 4), "queries_with_misses": missed_queries,
                             "substrings": len(substrings)}
    for name, engine in engines.items():
        precisions = []
        for s in substrings:
            expected = oracle[s]
            if not expected:
                continue
            top = engine.query(s, "top10").keys
            precisions.append(len(set(top) & expected) / min(10, len(expected)))
        results.setdefault(name, {})["exact_p_at_10"] = round(sum(precisions) / max(1, len(precisions)), 4)
    return results


# --- cold start and server memory ----------------------------------------------------------------------


def coldstart_section(index_dir: Path, with_server: bool = True) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([PY, "-m", "kb", "search", "人民政府", "--index", str(index_dir), "--limit", "3"],
                       cwd=ROOT, env=env, capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    result = {"cli_first_answer_s": round(sorted(runs)[1], 3)}
    if with_server:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        started = time.perf_counter()
        server = subprocess.Popen([PY, "-m", "web", "--index", str(index_dir), "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/?q=%E4%BA%BA%E6%B0%91%E6%94%BF%E5%BA%9C"
        try:
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=10) as response:
                        response.read()
                    break
                except OSError:
                    if time.perf_counter() - started > 60 or server.poll() is not None:
                        raise RuntimeError("the web server did not answer")
                    time.sleep(0.05)
            result["server_first_answer_s"] = round(time.perf_counter() - started, 3)
            for q in ("法律", "环境保护", "罚款 -刑法", "%22人民代表大会%22", "行政"):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?q={urllib.request.quote(q)}") as r:
                    r.read()
            result["server_rss_mb"] = measure.rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    return result


# --- concurrency -----------------------------------------------------------------------------------


def concurrency_section(index_dir: Path, queries: list[str], seconds: float = 10.0, clients: int = 50) -> dict:
    """Full result pages and API searches of the bench queries, 1 client then ``clients``, with
    one server process and with two sharing the socket (the shipped one thread per process; and two
    processes of two threads each, the other choice an operator has: ``threads = 2``)."""
    import urllib.parse

    from bench import load

    paths = [p.format(urllib.parse.quote(q)) for q in queries for p in ("/?q={}", "/api/search?q={}")]
    results = {}
    for processes, threads in ((1, None), (2, None), (2, 2)):
        servers = load.Servers(index_dir, processes=processes, threads=threads)
        try:
            found = load.compare(servers.port, paths, clients, seconds, pids=servers.pids)
            found["server_rss_mb"] = servers.rss_mb()
        finally:
            servers.stop()
        name = f"{processes} process" + ("es" if processes > 1 else "") + (f", {threads} threads each" if threads else "")
        results[name] = found
        _log(f"concurrency: {name}: ratio {found['ratio']}, p99 {found['many']['p99_ms']} ms, "
             f"errors {found['single']['errors'] + found['many']['errors']}, cores {found['many']['cores']}")
    return results


# --- report -----------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def print_report(report: dict) -> None:
    print(f"\n# Benchmark ({report['mode']}, corpus {report['corpus']['name']}: {report['corpus']['files']} files, "
          f"{report['corpus']['mb']} MB) — {report['machine']['cpu']}, {report['machine']['cores']} cores, "
          f"{report['machine']['date']}")
    if report.get("ingest"):
        print("\n## Ingest")
        print(f"{'engine':15} {'seconds':>8} {'MB/s':>7} {'docs/s':>7} {'index MB':>9} {'peak RSS MB':>12} {'x naive':>8}")
        for name, r in report["ingest"].items():
            print(f"{name:15} {r['seconds']:8.1f} {r['mb_per_s']:7.2f} {r['docs_per_s']:7.1f} "
                  f"{r['size_bytes'] / 1e6:9.1f} {r['peak_rss_mb']:12.0f} {r.get('speedup_vs_naive', ''):>8}")
    if report.get("latency"):
        print(f"\n## Query latency, ms (median / p95 over {report['queries']} queries; fewer where n says so)")
        print(f"{'engine':15} " + " ".join(f"{v:>18}" for v in VARIANTS))
        for name, r in report["latency"].items():
            cells = [f"{r[v]['median_ms']:7.2f} / {r[v]['p95_ms']:7.2f}" + (f" n={r[v]['n']}" if r[v]["n"] < report["queries"] else "")
                     for v in VARIANTS]
            print(f"{name:15} " + " ".join(f"{c:>18}" for c in cells))
    if report.get("recall"):
        print(f"\n## Recall against grep ({report['substrings']} random 2–6 character substrings)")
        for name, r in report["recall"].items():
            recall = f"{r['recall']:.1%}" if "recall" in r else "n/a"
            print(f"{name:15} recall {recall:>7}   exact-match precision@10 {r.get('exact_p_at_10', float('nan')):.3f}")
    if report.get("lecard"):
        lec = report["lecard"]
        if "skipped" in lec:
            print(f"\n## LeCaRD: skipped ({lec['skipped']})")
        else:
            print("\n## LeCaRD dev (NDCG@30)")
            for name, proto in lec.get("summary", {}).items():
                print(f"{name:15} " + "  ".join(f"{k} {v:.3f}" for k, v in proto.items()))
    if report.get("coldstart"):
        print("\n## Cold start")
        print("  " + ", ".join(f"{k} {v}" for k, v in report["coldstart"].items()))
    if report.get("batch"):
        print("\n## Batch of 800 documents (start-up included)")
        for name, r in report["batch"].items():
            print(f"{name:15} {r['seconds']:8.1f} s {r['mb_per_s']:7.2f} MB/s  x naive {r.get('speedup_vs_naive', '')}")
    sizes = (report.get("ingest") or {}).get("ours", {}).get("sizes")
    if sizes:
        print("\n## Index size by part (ours; x the text)")
        for part, r in sizes.items():
            if r["x_text"] >= 0.005 or part == "total":
                print(f"  {r['mb']:8.1f} MB {r['x_text']:6.3f}x  {part}")
    if report.get("concurrency"):
        print("\n## Concurrency (1 client, then 50 keep-alive clients)")
        for name, r in report["concurrency"].items():
            print(f"  {name}: {r['single']['rps']} -> {r['many']['rps']} req/s = {r['ratio']}x, p99 {r['many']['p99_ms']} ms, "
                  f"errors {r['single']['errors'] + r['many']['errors']}, cores {r['many']['cores']}")
    if report.get("scale"):
        print("\n## Scale (ours)")
        for k, r in report["scale"].items():
            print(f"  {k}: {r['files']} files, {r['text_mb']} MB, ingest {r['ingest_s']} s ({r['mb_per_s']} MB/s, "
                  f"{r['mb_per_s_vs_1x']}x of 1x), peak RSS {r['peak_rss_mb']} MB, index {r['index_mb']} MB, "
                  f"{r['segments']} segments, full p95 {r['full_p95_ms']} ms ({r['p95_vs_1x']}x of 1x), "
                  f"server RSS {r['server_rss_mb']} MB")
    if report.get("ceiling"):
        print("\n## Where one machine ends (straight lines through the series)")
        print("  " + json.dumps(report["ceiling"], ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("all", "quick"), nargs="?", default="quick")
    parser.add_argument("--scale", type=int, nargs="+", default=None, metavar="K",
                        help="scale factors (default 1 2 4 8 16)")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="laws")
    parser.add_argument("--engines", nargs="+", default=None)
    parser.add_argument("--sections", nargs="+", default=None,
                        help="ingest batch latency recall lecard coldstart concurrency scale "
                             "(default: all of them for the mode)")
    parser.add_argument("--json", metavar="OUT", help="write the report here (default bench/out/report-<mode>.json)")
    args = parser.parse_args(argv)
    from bench.engines.registry import ALL

    quick = args.mode == "quick"
    sections = set(args.sections or ["ingest", "latency", "recall", "lecard", "coldstart"]
                   + ([] if quick else ["batch", "concurrency", "scale"]))
    engines = list(args.engines or ALL)
    try:
        files = corpus_files(args.corpus) if CORPORA[args.corpus].exists() else []
    except SystemExit:
        files = []
    corpus_name = args.corpus
    if quick:
        import random

        if files:
            files = sorted(random.Random(1).sample(files, min(120, len(files))))
        files = sorted(files + corpus_files("samples"))
        corpus_name = f"samples + {len(files) - len(corpus_files('samples'))} {args.corpus} files" if files else "samples"
    if not files:
        print(f"bench: corpus {args.corpus} not present ({CORPORA[args.corpus]}); using the demo samples only",
              file=sys.stderr)
        files = corpus_files("samples")
    for name in list(engines):  # peers are optional
        try:
            from bench.engines.registry import make

            make(name, OUT / "probe")
        except ImportError as exc:
            _log(f"bench: engine {name} skipped ({exc})")
            engines.remove(name)

    work = OUT / args.mode
    work.mkdir(parents=True, exist_ok=True)
    corpus_bytes = sum(p.stat().st_size for p in files)
    _log(f"bench: preparing {len(files)} files for the peers (read/clean/metadata, cached) ...")
    docs = prepare_docs(files, cache=OUT / "cache" / f"{args.mode}-{args.corpus}-{len(files)}.pickle")
    report = {"mode": args.mode, "machine": machine(),
              "corpus": {"name": corpus_name, "files": len(files), "mb": round(corpus_bytes / 1e6, 1)}}
    if "ingest" in sections:
        report["ingest"] = ingest_section(engines, files, docs, work, corpus_bytes)
    if "batch" in sections:
        report["batch"] = batch_section(engines, files, docs, work)
    queries = sample_queries(docs, 60 if quick else 300)
    substrings = sample_substrings(docs, 60 if quick else 300)
    report["queries"], report["substrings"] = len(queries), len(substrings)
    if sections & {"latency", "recall"}:
        opened = open_engines(engines, work)
        if "latency" in sections:
            report["latency"] = latency_section(opened, queries, budget_s=20.0 if quick else 90.0)
            naive_top10 = report["latency"].get("naive", {}).get("top10", {}).get("p95_ms")
            if naive_top10:
                for name, r in report["latency"].items():
                    r["full_p95_vs_naive_top10"] = round(r["full"]["p95_ms"] / naive_top10, 2)
        if "recall" in sections:
            report["recall"] = recall_section(opened, docs, substrings)
        for engine in opened.values():
            engine.close()
    if "lecard" in sections:
        try:
            from bench import lecard

            report["lecard"] = lecard.run(quick=quick)
        except ImportError:
            report["lecard"] = {"skipped": "bench/lecard.py not available"}
    if "coldstart" in sections and (work / "ours").exists():
        report["coldstart"] = coldstart_section(work / "ours", with_server=True)
    if "concurrency" in sections and (work / "ours").exists():
        report["concurrency"] = concurrency_section(work / "ours", queries)
    if "scale" in sections:
        from bench import scale

        factors = tuple(args.scale) if args.scale else scale.FACTORS
        report["scale"] = scale.series(files, queries, work, build_engine, latency_section, factors, log=_log)
        report["ceiling"] = scale.ceiling(report["scale"])
    out = Path(args.json) if args.json else OUT / f"report-{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print_report(report)
    print(f"\n(full report: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
