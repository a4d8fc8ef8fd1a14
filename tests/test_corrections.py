"""Staff corrections: `kb set` wins over extraction, survives reextract and re-ingest, --unset undoes it."""

from __future__ import annotations

import json

from kb.cli import main

REPORT = "各位代表：\n现在，我代表县人民政府向大会报告工作。2019年，乡村振兴取得新进展。\n2020年1月5日"


def _doc(capsys, index, ident):
    assert main(["show", ident, "--index", str(index), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_correction_wins_and_survives_reextract_and_reingest(tmp_path, make_docs, capsys):
    from support import ingest_paths

    root = make_docs({"r.txt": REPORT})
    index = tmp_path / "index"
    ingest_paths([root], index)
    assert main(["search", "乡村振兴", "--index", str(index), "--json"]) == 0
    doc_id = json.loads(capsys.readouterr().out)["hits"][0]["id"]
    assert main(["set", doc_id, "title=涞水县2019年政府工作报告", "county=涞水县;涞源县", "year=2019",
                 "--index", str(index)]) == 0
    capsys.readouterr()
    doc = _doc(capsys, index, doc_id)
    assert doc["title"] == "涞水县2019年政府工作报告" and doc["counties"] == ["涞水县", "涞源县"] and doc["year"] == 2019
    assert main(["reextract", "--index", str(index)]) == 0
    capsys.readouterr()
    assert _doc(capsys, index, doc_id)["title"] == "涞水县2019年政府工作报告"
    (root / "r.txt").write_text(REPORT + "\n补充一段。", encoding="utf-8")  # a changed file: re-ingested
    assert ingest_paths([root], index).counts["updated"] == 1
    doc = _doc(capsys, index, doc_id)
    assert doc["title"] == "涞水县2019年政府工作报告" and "补充一段" in doc["text"]
    assert main(["search", "", "--county", "涞源县", "--index", str(index), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1
    assert main(["set", doc_id, "--unset", "title", "--unset", "county", "--index", str(index)]) == 0
    capsys.readouterr()
    doc = _doc(capsys, index, doc_id)
    assert doc["title"] != "涞水县2019年政府工作报告" and doc["year"] == 2019


def test_bad_corrections_are_usage_errors(tmp_path, make_docs, capsys):
    from support import ingest_paths

    root = make_docs({"r.txt": REPORT})
    index = tmp_path / "index"
    ingest_paths([root], index)
    path = str(root / "r.txt")
    assert main(["set", path, "year=twenty", "--index", str(index)]) == 2
    assert main(["set", path, "colour=red", "--index", str(index)]) == 2
    assert main(["set", path, "access=绝密", "--index", str(index)]) == 2
    assert main(["set", path, "nonsense", "--index", str(index)]) == 2
    assert main(["set", "0000000000000000", "year=2020", "--index", str(index)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("kb: error:") == 5
