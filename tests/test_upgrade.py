"""`kb upgrade`: an index made by an older version (index format 1) is rebuilt in the current format
from the texts and metadata it stores — no source files needed, stores and corrections kept."""

from __future__ import annotations

import json

from whoosh import fields, index

from kb.cli import main

DOCS = [("a", "关于乡村振兴工作的报告", "关于乡村振兴工作的报告\n2021年，县委统战部组织新乡贤投身乡村振兴。\n2021年12月1日"),
        ("b", "关于宗教工作的通知", "关于宗教工作的通知\n民族宗教工作，平遥县。\n2020年3月1日")]


def _format1_index(folder):
    """What an older kb wrote, as far as an upgrade reads it: Whoosh's stored fields (and a schema
    whose analysed fields are Whoosh fields, not term arrays)."""
    schema = fields.Schema(id=fields.ID(stored=True, unique=True), path=fields.ID(stored=True),
                           sha=fields.ID(stored=True), title=fields.TEXT(stored=True), grams=fields.TEXT(),
                           text=fields.STORED(), meta=fields.STORED(), added=fields.NUMERIC(stored=True))
    folder.mkdir(parents=True)
    ix = index.create_in(str(folder), schema, indexname="kb")
    writer = ix.writer()
    for i, (name, title, text) in enumerate(DOCS):
        writer.add_document(id=f"{i:016x}", path=f"/old/{name}.txt", sha=f"{i:064x}", title=title, grams=text,
                            text=text, meta={"format": "txt", "given": {"counties": ["祁县"]} if i == 0 else {},
                                             "ingested": 1_700_000_000 + i})
    writer.commit()
    (folder / "users").mkdir()
    (folder / "users" / "users.json").write_text("{}", encoding="utf-8")


def test_an_old_index_is_refused_with_what_to_do_then_upgraded(tmp_path, capsys):
    old = tmp_path / "index"
    _format1_index(old)
    assert main(["search", "乡村振兴", "--index", str(old)]) == 1
    assert "kb upgrade" in capsys.readouterr().err
    assert main(["upgrade", "--index", str(old)]) == 0
    capsys.readouterr()
    assert main(["search", "乡村振兴", "--index", str(old), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 1 and data["hits"][0]["counties"] == ["祁县"] and data["hits"][0]["year"] == 2021
    assert (old / "users" / "users.json").exists()  # the stores came along
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("index.format1-")]  # the old one is kept
    assert main(["upgrade", "--index", str(old)]) == 1  # already current: says so
