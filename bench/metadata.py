"""Metadata accuracy on real documents nobody here wrote.

    python -m bench.metadata [--laws] [--labels] [--json OUT]

* ``--laws``: all of ../shared/corpus/laws against its manifest: our first county (for county-level
  places) or first city vs ``place``; our year vs ``year``.
* ``--labels``: the hand-labelled set bench/labels/metadata.jsonl (labels written by reading the
  documents, before looking at our output): per field precision, recall and F1 (list fields, micro
  averaged), accuracy of the first value, and accuracy of single values.

Both by default. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.corpora import ROOT, SHARED

LABELS = ROOT / "bench" / "labels" / "metadata.jsonl"
LIST_FIELDS = ("counties", "cities", "provinces", "sectors", "doctype", "issuer")
SCALAR_FIELDS = ("year", "date", "docno", "title")


def extract_file(path: str) -> dict:
    """read -> clean -> metadata for one file, as ingest does (no index involved)."""
    from kb import meta
    from kb.clean import clean
    from kb.read import read_bytes

    p = Path(path)
    try:
        extracted = read_bytes(p, p.read_bytes())
    except Exception as exc:  # a file we cannot read counts as all fields missing
        return {"error": str(exc)}
    found, _ = meta.extract(clean(extracted.text), extracted.title, str(p.resolve()))
    return found


def extract_all(paths: list[str], jobs: int = 2) -> list[dict]:
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(extract_file, paths, chunksize=16))


# --- laws manifest ----------------------------------------------------------------------------------


def _place_matches(place: str, names: list[str]) -> bool:
    """``place`` (from the manifest) is our first place, by full name or short-name prefix
    (深圳经济特区 is 深圳市's special zone)."""
    from kb.meta.places import Gazetteer

    if not names:
        return False
    ours = names[0]
    if ours == place:
        return True
    gaz = Gazetteer.load()
    for candidate in gaz.full.get(ours, []):
        if candidate.short and len(candidate.short) >= 2 and place.startswith(candidate.short):
            return True
    # an older name of our place (莱芜市 is today's 济南市莱芜区)
    return any(p.name == ours or p.city == ours for p in gaz.full.get(place, []))


def laws_report(jobs: int) -> dict:
    manifest_path = SHARED / "corpus" / "laws" / "manifest.jsonl"
    if not manifest_path.exists():
        return {"skipped": f"{manifest_path} not present"}
    rows = [json.loads(line) for line in manifest_path.read_text(encoding="utf-8").splitlines()]
    docs = SHARED / "corpus" / "laws" / "docs"
    found = extract_all([str(docs / r["path"]) for r in rows], jobs)
    place_total = place_ok = year_total = year_ok = 0
    misses = {"place": [], "year": []}
    for row, ours in zip(rows, found):
        if row.get("place"):
            place_total += 1
            field = "counties" if row.get("is_county_level") else "cities"
            if _place_matches(row["place"], ours.get(field) or []):
                place_ok += 1
            elif len(misses["place"]) < 25:
                misses["place"].append({"path": row["path"], "place": row["place"], field: ours.get(field)})
        if row.get("year"):
            year_total += 1
            if ours.get("year") == row["year"]:
                year_ok += 1
            elif len(misses["year"]) < 25:
                misses["year"].append({"path": row["path"], "year": row["year"], "ours": ours.get("year")})
    return {
        "documents": len(rows),
        "place": {"with_place": place_total, "match": place_ok, "accuracy": round(place_ok / max(1, place_total), 4)},
        "year": {"with_year": year_total, "match": year_ok, "accuracy": round(year_ok / max(1, year_total), 4)},
        "misses": misses,
    }


# --- the hand-labelled set --------------------------------------------------------------------------


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def labels_report(jobs: int) -> dict:
    if not LABELS.exists():
        return {"skipped": f"{LABELS} not present"}
    labels = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    present = [row for row in labels if (SHARED / row["path"]).exists()]
    if not present:
        return {"skipped": f"none of the labelled documents is under {SHARED}"}
    found = extract_all([str(SHARED / row["path"]) for row in present], jobs)
    from kb.meta.sectors import taxonomy

    parents = taxonomy().parents
    report: dict = {"documents": len(present), "fields": {}}
    for field in LIST_FIELDS:
        tp = fp = fn = first_ok = first_total = 0
        for row, ours in zip(present, found):
            want = _as_list(row.get(field))
            got = _as_list(ours.get(field))
            if field == "sectors":  # a labelled child implies its parent; compare what the label names
                implied = {parents[s] for s in want if s in parents}
                got = [s for s in got if s not in implied or s in want]
            tp += len(set(want) & set(got))
            fp += len(set(got) - set(want))
            fn += len(set(want) - set(got))
            if want:
                first_total += 1
                first_ok += bool(got) and got[0] == want[0]
        precision = tp / max(1, tp + fp)
        recall = tp / max(1, tp + fn)
        report["fields"][field] = {
            "precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(2 * precision * recall / max(1e-9, precision + recall), 3),
            "first_correct": f"{first_ok}/{first_total}",
        }
    for field in SCALAR_FIELDS:
        ok = total = 0
        for row, ours in zip(present, found):
            want = row.get(field)
            if want in (None, ""):
                continue
            total += 1
            got = ours.get(field)
            if field == "date" and got and isinstance(want, str):
                ok += str(got)[: len(want)] == want
            elif field == "title":  # full- and half-width punctuation are the same title
                ok += unicodedata.normalize("NFKC", str(got or "")) == unicodedata.normalize("NFKC", want)
            else:
                ok += got == want
        report["fields"][field] = {"accuracy": round(ok / max(1, total), 3), "correct": f"{ok}/{total}"}
    report["per_document"] = [
        {"path": row["path"], **{f: {"want": row.get(f), "got": ours.get(f)} for f in LIST_FIELDS + ("year",)
                                 if _as_list(row.get(f)) != _as_list(ours.get(f))}}
        for row, ours in zip(present, found)
    ]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metadata", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--laws", action="store_true")
    parser.add_argument("--labels", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", metavar="OUT", help="also write the full report (with misses) here")
    args = parser.parse_args(argv)
    both = not (args.laws or args.labels)
    result = {}
    if args.laws or both:
        result["laws"] = laws_report(args.jobs)
        laws = result["laws"]
        if "skipped" in laws:
            print(f"laws: skipped ({laws['skipped']})")
        else:
            print(f"laws manifest ({laws['documents']} documents):")
            print(f"  place = our first county/city: {laws['place']['match']}/{laws['place']['with_place']}"
                  f" = {laws['place']['accuracy']:.1%}")
            print(f"  year  = manifest year:         {laws['year']['match']}/{laws['year']['with_year']}"
                  f" = {laws['year']['accuracy']:.1%}")
    if args.labels or both:
        result["labels"] = labels_report(args.jobs)
        labels = result["labels"]
        if "skipped" in labels:
            print(f"labelled set: skipped ({labels['skipped']})")
        else:
            print(f"hand-labelled set ({labels['documents']} documents):")
            print(f"  {'field':10} {'P':>6} {'R':>6} {'F1':>6}  first")
            for field in LIST_FIELDS:
                m = labels["fields"][field]
                print(f"  {field:10} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f}  {m['first_correct']}")
            for field in SCALAR_FIELDS:
                m = labels["fields"][field]
                print(f"  {field:10} accuracy {m['accuracy']:.3f} ({m['correct']})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
