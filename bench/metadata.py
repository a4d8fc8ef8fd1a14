"""Metadata accuracy on real documents nobody here wrote.

    python -m bench.metadata [--laws] [--labels] [--work-reports] [--sector-labels] [--json OUT]

* ``--laws``: all of ../shared/corpus/laws against its manifest: our first county (for county-level
  places) or first city vs ``place``; our year vs ``year``.
* ``--labels``: the hand-labelled set bench/labels/metadata.jsonl (labels written by reading the
  documents, before looking at our output): per field precision, recall and F1 (list fields, micro
  averaged), accuracy of the first value, and accuracy of single values.

* ``--work-reports``: the 66 government work reports of ../shared/corpus/work-reports (河北省, 保定市,
  高阳县; scraped pages, body only) against their manifest: year, title (a fair match, see
  ``title_matches``) and the region at its own level (county, city or province). Where the
  manifest names something the file does not hold (bench/labels/work-reports-audit.jsonl, written
  by reading the files), both figures are printed: against the manifest as it is, and audited.

* ``--sector-labels``: sectors on the held-out set bench/labels/sectors.jsonl (labelled blind,
  never tuned on), overall and per corpus; ``--misses`` lists the documents that differ.

Sectors are compared as the labels write them: most specific only (``most_specific``).
All by default. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.corpora import ROOT, SHARED

LABELS = ROOT / "bench" / "labels" / "metadata.jsonl"
SECTOR_LABELS = ROOT / "bench" / "labels" / "sectors.jsonl"  # held out: sectors labelled blind
WORK_REPORTS = SHARED / "corpus" / "work-reports"
WORK_REPORTS_AUDIT = ROOT / "bench" / "labels" / "work-reports-audit.jsonl"
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


# --- government work reports ----------------------------------------------------------------------
#
# Title match. The manifest's title is the one the site gave the page; the document's own title
# can be shorter (政府工作报告 + its meeting line), longer (…全文（郭建英）) or arranged otherwise
# (2020年保定市政府工作报告 vs 保定市政府工作报告——2020年…会议上). Two titles match when
#   (a) they are equal once spaces, punctuation and dashes are removed (NFKC, simplified), or
#   (b) their main titles (before the subtitle dash, edition notes dropped) are equal, unless that
#       is a bare 文种 (政府工作报告), or
#   (c) both name the same place, the same year and the same 文种, each read from the title
#       itself: the place is the most specific place it names in full (the gazetteer's names); the year is a year it
#       writes, or, for a title that names its numbered meeting (第十三届…第三次会议, 十六届人大七次会议)
#       but no year, that side's year (the manifest's year, our extracted year); the 文种 is the
#       longest doctypes.txt word that ends the title or one of its dash-separated parts, after
#       edition notes (全文, （摘要）, （节选）, （摘登）) are dropped.
# A bare 政府工作报告 names no place or year and so matches only a bare 政府工作报告.

_LEVEL = {"county": 3, "city": 2, "province": 1}
_EDITION = re.compile(r"(?:[(（【\[][^()（）【】\[\]]{0,12}[)）】\]]|全文|摘要|节选|摘登)+$")
_MEETING = re.compile(r"届.{0,16}?次会议|届人大.{1,3}次会议")


def _title_norm(title: str) -> str:
    from kb.analysis import normalize

    return "".join(ch for ch in normalize(title or "") if ch.isalnum())


def _title_key(title: str, side_year: int | None) -> tuple | None:
    """(place, year, 文种) a title names, or None when it does not name all three."""
    from kb.analysis import normalize
    from kb.meta.dates import years_in
    from kb.meta.title import doctype_words, named_places

    norm = unicodedata.normalize("NFKC", normalize(title or "")).strip()
    if not norm:
        return None
    named = sorted(named_places(norm, min_length=2), key=lambda n: -_LEVEL.get(n[1], 0))
    place = named[0][0] if named else None
    years = set(years_in(norm))
    if not years and side_year and _MEETING.search(norm):
        years = {side_year}
    kind = None
    for part in re.split(r"[—―-]+", norm):
        part = _EDITION.sub("", part.strip())
        for word, _ in doctype_words():  # longest first
            if part.endswith(word) and (kind is None or len(word) > len(kind)):
                kind = word
                break
    if not (place and years and kind):
        return None
    return place, frozenset(years), kind


def _main_title(title: str) -> str:
    """The title before its subtitle (——在…会议上) and edition notes, normalised; empty for a bare 文种."""
    from kb.meta.title import is_generic

    main = _EDITION.sub("", re.split(r"[—―]+|--", unicodedata.normalize("NFKC", title or ""))[0].strip())
    return "" if not main or is_generic(main) else _title_norm(main)


def title_matches(ours: str | None, want: str | None, our_year: int | None, want_year: int | None) -> bool:
    if not ours or not want:
        return False
    if _title_norm(ours) == _title_norm(want):
        return True
    main_ours, main_want = _main_title(ours), _main_title(want)
    if main_ours and main_ours == main_want:
        return True
    a, b = _title_key(ours, our_year), _title_key(want, want_year)
    return a is not None and b is not None and a[0] == b[0] and a[2] == b[2] and bool(a[1] & b[1])


def _region_matches(region: str, ours: dict) -> bool:
    """The manifest's region is our first place at its level (高阳县 a county, 保定市 a city, 河北省 a province)."""
    from kb.meta.places import Gazetteer

    levels = {p.level for p in Gazetteer.load().full.get(region, [])}
    field = "counties" if "county" in levels else "cities" if "city" in levels else "provinces"
    return (ours.get(field) or [None])[0] == region


def work_reports_report(jobs: int) -> dict:
    manifest_path = WORK_REPORTS / "manifest.jsonl"
    if not manifest_path.exists():
        return {"skipped": f"{manifest_path} not present"}
    rows = [json.loads(line) for line in manifest_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    audit = {}
    if WORK_REPORTS_AUDIT.exists():
        for line in WORK_REPORTS_AUDIT.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                audit[entry["path"]] = entry
    found = extract_all([str(WORK_REPORTS / "docs" / r["path"]) for r in rows], jobs)
    counts = {k: [0, 0] for k in ("year", "year_audited", "title", "title_audited", "region")}
    documents = []
    for row, ours in zip(rows, found):
        fixed = audit.get(row["path"], {})
        year = fixed.get("year", row.get("year")) if "year" in fixed else row.get("year")
        title = fixed["title"] if "title" in fixed else row.get("title")
        got_title, got_year = ours.get("title"), ours.get("year")
        result = {
            "year": got_year == row.get("year"),
            "year_audited": got_year == year,  # a year that cannot be told must not be guessed
            "title": title_matches(got_title, row.get("title"), got_year, row.get("year")),
            "title_audited": title_matches(got_title, title, got_year, year) if title else None,
            "region": _region_matches(row["region"], ours),
        }
        for key, ok in result.items():
            if ok is None:
                continue
            counts[key][0] += bool(ok)
            counts[key][1] += 1
        documents.append({
            "path": row["path"], "ok": result,
            "want": {"year": row.get("year"), "title": row.get("title"), "region": row["region"],
                     **({"audited": fixed} if fixed else {})},
            "got": {"year": got_year, "title": got_title, "title_source": ours.get("title_source"),
                    "provenance": ours.get("provenance"), "counties": ours.get("counties"),
                    "cities": ours.get("cities"), "provinces": ours.get("provinces")},
        })
    return {
        "documents": len(rows),
        "audited": len(audit),
        "accuracy": {k: {"match": ok, "of": n, "accuracy": round(ok / max(1, n), 4)} for k, (ok, n) in counts.items()},
        "per_document": documents,
    }


# --- the hand-labelled set --------------------------------------------------------------------------


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def most_specific(sectors: list[str], parents: dict) -> list[str]:
    """Sectors compared as the labels write them (bench/labels/README.md: "when a child sector
    applies, only the child is listed"): a parent listed with its own child is implied by it and
    left out, on both sides. The product lists the parent too, so that filtering by it finds the
    child's documents; a parent listed alone is a claim of its own."""
    implied = {parents[s] for s in sectors if s in parents}
    return [s for s in sectors if s not in implied]


def sector_labels_report(jobs: int, misses: bool = False) -> dict:
    """Sectors against bench/labels/sectors.jsonl, held out: labelled blind, never tuned on."""
    if not SECTOR_LABELS.exists():
        return {"skipped": f"{SECTOR_LABELS} not present"}
    rows = [json.loads(line) for line in SECTOR_LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    present = [row for row in rows if (SHARED / row["path"]).exists()]
    if not present:
        return {"skipped": f"none of the labelled documents is under {SHARED}"}
    found = extract_all([str(SHARED / row["path"]) for row in present], jobs)
    from kb.meta.sectors import taxonomy

    parents = taxonomy().parents
    counts: dict[str, list[int]] = {}  # group -> [tp, fp, fn, first_ok, first_total, documents]
    per_document = []
    for row, ours in zip(present, found):
        want = most_specific(_as_list(row.get("sectors")), parents)
        got = most_specific(_as_list(ours.get("sectors")), parents)
        group = row["path"].split("/")[1] if row["path"].startswith("corpus/") else row["path"].split("/")[0]
        for key in ("all", group):
            c = counts.setdefault(key, [0, 0, 0, 0, 0, 0])
            c[0] += len(set(want) & set(got))
            c[1] += len(set(got) - set(want))
            c[2] += len(set(want) - set(got))
            c[3] += bool(want) and bool(got) and got[0] == want[0]
            c[4] += bool(want)
            c[5] += 1
        if set(want) != set(got):
            per_document.append({"path": row["path"], "want": want, "got": got,
                                 "why": (ours.get("provenance") or {}).get("sectors")})
    report = {"documents": len(present), "groups": {}}
    for key, (tp, fp, fn, first_ok, first_total, n) in counts.items():
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        report["groups"][key] = {
            "documents": n, "precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(2 * precision * recall / max(1e-9, precision + recall), 3),
            "first_correct": f"{first_ok}/{first_total}",
        }
    report["per_document"] = per_document
    return report


def labels_report(jobs: int) -> dict:
    if not LABELS.exists():
        return {"skipped": f"{LABELS} not present"}
    labels = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    present = [row for row in labels if (SHARED / row["path"]).exists()]
    if not present:
        return {"skipped": f"none of the labelled documents is under {SHARED}"}
    found = extract_all([str(SHARED / row["path"]) for row in present], jobs)
    from kb.meta.sectors import taxonomy

    from kb.meta.issuer import canonical_issuer

    parents = taxonomy().parents
    report: dict = {"documents": len(present), "fields": {}}
    for field in LIST_FIELDS:
        tp = fp = fn = first_ok = first_total = 0
        for row, ours in zip(present, found):
            want = _as_list(row.get(field))
            got = _as_list(ours.get(field))
            if field == "sectors":
                want, got = most_specific(want, parents), most_specific(got, parents)
            if field == "issuer":  # labels name the body as the text does; compare one name per body
                want = [canonical_issuer(w) for w in want]
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
    parser.add_argument("--work-reports", action="store_true", dest="work_reports")
    parser.add_argument("--sector-labels", action="store_true", dest="sector_labels",
                        help="sectors on the held-out set bench/labels/sectors.jsonl")
    parser.add_argument("--misses", action="store_true", help="with --work-reports or --sector-labels: list every miss")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", metavar="OUT", help="also write the full report (with misses) here")
    args = parser.parse_args(argv)
    both = not (args.laws or args.labels or args.work_reports or args.sector_labels)
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
    if args.work_reports or both:
        result["work_reports"] = reports = work_reports_report(args.jobs)
        if "skipped" in reports:
            print(f"work reports: skipped ({reports['skipped']})")
        else:
            acc = reports["accuracy"]
            print(f"work reports ({reports['documents']} documents; {reports['audited']} audited rows):")
            for key, label in (("year", "year  vs manifest"), ("year_audited", "year  audited"),
                               ("title", "title vs manifest"), ("title_audited", "title audited"),
                               ("region", "county/city/province")):
                m = acc[key]
                print(f"  {label:22} {m['match']}/{m['of']} = {m['accuracy']:.1%}")
            if args.misses:
                for doc in reports["per_document"]:
                    bad = [k for k, ok in doc["ok"].items() if ok is False]
                    if bad:
                        got = doc["got"]
                        print(f"  MISS {doc['path']} {','.join(bad)}: year {got['year']} title {got['title']!r}"
                              f" ({got['title_source']}) place {(got['counties'] or got['cities'] or got['provinces'] or [None])[0]}"
                              f" | want {doc['want']['year']} {doc['want']['title']!r}")
    if args.sector_labels or both:
        result["sector_labels"] = held = sector_labels_report(args.jobs)
        if "skipped" in held:
            print(f"held-out sector labels: skipped ({held['skipped']})")
        else:
            print(f"held-out sector labels ({held['documents']} documents; most specific sectors compared):")
            print(f"  {'group':18} {'docs':>4} {'P':>6} {'R':>6} {'F1':>6}  first")
            for key, m in sorted(held["groups"].items(), key=lambda kv: (kv[0] != "all", kv[0])):
                print(f"  {key:18} {m['documents']:4} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f}  {m['first_correct']}")
            if args.misses:
                for doc in held["per_document"]:
                    print(f"  MISS {doc['path']}: want {doc['want']} got {doc['got']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
