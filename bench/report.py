"""Render a benchmark report (JSON) as the Markdown tables of the README's Performance section:
``python -m bench.report bench/out/report-all.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.engines import VARIANTS


def markdown(report: dict) -> str:
    m, c = report["machine"], report["corpus"]
    out = [f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}; corpus {c['name']} "
           f"({c['files']} files, {c['mb']} MB); `python -m bench {report['mode']}`.", ""]
    if report.get("ingest"):
        out += ["| ingest | seconds | MB/s | × naive | docs/s | index MB | peak RSS MB (all processes) |",
                "|---|---|---|---|---|---|---|"]
        for name, r in report["ingest"].items():
            out.append(f"| {name} | {r['seconds']:.1f} | {r['mb_per_s']:.2f} | {r.get('speedup_vs_naive', '')} | "
                       f"{r['docs_per_s']:.0f} | {r['size_bytes'] / 1e6:.0f} | {r['peak_rss_mb']:.0f} |")
        out.append("")
    if report.get("latency"):
        out += [f"| query ms, median / p95 ({report['queries']} queries) | " + " | ".join(VARIANTS) + " |",
                "|---|" + "---|" * len(VARIANTS)]
        for name, r in report["latency"].items():
            cells = []
            for v in VARIANTS:
                cell = f"{r[v]['median_ms']:.1f} / {r[v]['p95_ms']:.1f}"
                if r[v]["n"] < report["queries"]:
                    cell += f" (n={r[v]['n']})"
                cells.append(cell)
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    if report.get("recall"):
        out += [f"| recall vs grep ({report['substrings']} substrings, 2–6 chars) | share of grep's documents found | "
                "exact matches in top 10 |", "|---|---|---|"]
        for name, r in report["recall"].items():
            recall = f"{r['recall']:.1%}" if "recall" in r else "n/a"
            out.append(f"| {name} | {recall} | {r.get('exact_p_at_10', float('nan')):.3f} |")
        out.append("")
    lecard = report.get("lecard") or {}
    if lecard.get("summary"):
        out += ["| LeCaRD dev | " + " | ".join(next(iter(lecard["summary"].values())).keys()) + " |",
                "|---|" + "---|" * len(next(iter(lecard["summary"].values())))]
        for name, row in lecard["summary"].items():
            out.append(f"| {name} | " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
        out.append("")
    if report.get("coldstart"):
        cs = report["coldstart"]
        out.append("Cold start: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in cs.items()) + ".")
        out.append("")
    if report.get("batch"):
        out += ["| 800-document batch (start-up included) | seconds | MB/s | × naive |", "|---|---|---|---|"]
        for name, r in report["batch"].items():
            out.append(f"| {name} | {r['seconds']:.1f} | {r['mb_per_s']:.2f} | {r.get('speedup_vs_naive', '')} |")
        out.append("")
    sizes = (report.get("ingest") or {}).get("ours", {}).get("sizes")
    if sizes:
        out += _sizes(sizes)
    if report.get("concurrency"):
        out += ["| concurrency (laws, full pages and API) | 1 client req/s | 50 clients req/s | ratio | p50 / p95 / p99 ms "
                "| errors | cores: server(s) / other work |", "|---|---|---|---|---|---|---|"]
        for name, r in report["concurrency"].items():
            m = r["many"]
            out.append(f"| {name} | {r['single']['rps']:.0f} | {m['rps']:.0f} | {r['ratio']} | {m['p50_ms']} / {m['p95_ms']} / "
                       f"{m['p99_ms']} | {r['single']['errors'] + m['errors']} | {m['cores']['servers']} / {m['cores']['others']} |")
        out.append("")
    if report.get("scale"):
        out += ["| scale (ours) | files | GB text | ingest s | MB/s (vs 1×) | peak RSS MB | index MB | segments | "
                "full p95 ms (vs 1×) | top10 p95 ms | server RSS MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for k, r in report["scale"].items():
            out.append(f"| {k} | {r['files']} | {r['text_mb'] / 1000:.2f} | {r['ingest_s']:.0f} | {r['mb_per_s']:.2f} "
                       f"({r['mb_per_s_vs_1x']}) | {r['peak_rss_mb']:.0f} | {r['index_mb']:.0f} | {r['segments']} | "
                       f"{r['full_p95_ms']:.1f} ({r['p95_vs_1x']}) | {r['top10_p95_ms']:.1f} | {r['server_rss_mb']:.0f} |")
        out.append("")
    ceiling = report.get("ceiling") or {}
    if ceiling.get("p95_100ms"):
        p95, rss, per = ceiling["p95_100ms"], ceiling["rss_8gb"], ceiling["per_gb_of_text"]
        out.append(f"Per GB of text: index {per['index_mb']} MB, server RSS {per['server_rss_mb']} MB, ingest peak RSS "
                   f"{per['ingest_peak_rss_mb']} MB. Straight lines through the series: full-query p95 ≈ "
                   f"{p95['intercept']} + {p95['per_gb']} ms per GB of text, reaching 100 ms at "
                   f"{_at(p95)}; server RSS ≈ {rss['intercept']} + {rss['per_gb']} MB per GB, reaching 8 GB at {_at(rss)}.")
        out.append("")
    return "\n".join(out)


def _at(fit: dict) -> str:
    if not fit.get("gb_of_text"):
        return "no size (it does not grow)"
    return f"~{fit['gb_of_text']} GB of text (~{fit['documents']:,} documents like these)"


def _sizes(sizes: dict) -> list[str]:
    """The index by part: the large parts one by one, the small ones summed."""
    rows, small = [], {"mb": 0.0, "x_text": 0.0}
    for part, r in sizes.items():
        if part == "total":
            continue
        if r["x_text"] >= 0.01:
            rows.append(f"| {part} | {r['mb']:.1f} | {r['x_text']:.3f} |")
        else:
            small = {"mb": small["mb"] + r["mb"], "x_text": small["x_text"] + r["x_text"]}
    rows.append(f"| everything else (keyword fields, titles, headers) | {small['mb']:.1f} | {small['x_text']:.3f} |")
    total = sizes["total"]
    return (["| index of ours, by part | MB | × the text |", "|---|---|---|"] + rows
            + [f"| **total** | {total['mb']:.1f} | {total['x_text']:.3f} |", ""])


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/report-all.json")
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))
