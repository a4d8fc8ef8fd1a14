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
    if report.get("scale"):
        out += ["| scale (ours) | files | ingest s | peak RSS MB | full-query p95 ms | p95 vs 1× |", "|---|---|---|---|---|---|"]
        for k, r in report["scale"].items():
            out.append(f"| {k} | {r['files']} | {r['ingest_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['full_p95_ms']:.1f} | "
                       f"{r['p95_vs_1x']} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/report-all.json")
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))
