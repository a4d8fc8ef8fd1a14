"""Ingest of the kinds that are not one file = one document: archives walked like folders,
tables only when asked, the same text in another encoding stored once."""

from __future__ import annotations

import io
import json
import zipfile

from support import ingest_paths

REPORT = "关于乡村振兴工作的报告\n2021年，县委统战部组织新乡贤投身乡村振兴。\n2021年12月1日"
NOTICE = "关于宗教工作的通知\n民族宗教工作，平遥县。\n2020年3月1日"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_archive_members_are_documents_named_inside_the_archive(tmp_path, make_docs):
    from kb.search import KnowledgeBase

    inner = _zip({"通知.txt": NOTICE.encode("utf-8")})
    root = make_docs({"材料.zip": _zip({"2021/报告.txt": REPORT.encode("gb18030"), "inner.zip": inner,
                                       "../../escape.txt": "逃逸".encode(), "图.bmp0": b"xx"})})
    lines: list[str] = []
    summary = ingest_paths([root], tmp_path / "index", report=lines.append)
    assert summary.counts["added"] == 2, (summary.results, lines)
    kb = KnowledgeBase(tmp_path / "index")
    hit = kb.search("新乡贤").hits[0]
    assert hit.path.endswith("材料.zip!/2021/报告.txt")
    assert kb.search("民族宗教").hits[0].path.endswith("材料.zip!/inner.zip!/通知.txt")
    assert any("escape.txt" in line and "skipped" in line for line in lines)  # traversal: left out, said so
    assert kb.document(hit.id)["meta"]["shown_path"] == "docs/材料.zip!/2021/报告.txt"
    original = kb.original(hit.id)
    assert original.read_bytes() == REPORT.encode("gb18030")
    again = ingest_paths([root], tmp_path / "index")
    assert again.counts["unchanged"] == 2 and again.counts["added"] == 0


def test_a_broken_archive_is_one_failure_and_the_batch_goes_on(tmp_path, make_docs):
    root = make_docs({"bad.zip": b"PK\x03\x04 not really", "good.txt": REPORT})
    lines: list[str] = []
    summary = ingest_paths([root], tmp_path / "index", report=lines.append)
    assert summary.counts["added"] == 1 and summary.counts["failed"] == 1
    assert len([line for line in lines if "bad.zip" in line]) == 1


def test_tables_only_when_asked(tmp_path, make_docs):
    root = make_docs({"预算.csv": "项目,金额\n乡村振兴专项,100\n", "a.txt": REPORT})
    plain = ingest_paths([root], tmp_path / "i1")
    assert plain.counts["skipped"] == 1 and plain.counts["added"] == 1
    tables = ingest_paths([root], tmp_path / "i2", tables=True)
    assert tables.counts["added"] == 2


def test_the_same_text_in_three_encodings_is_stored_once(tmp_path, make_docs):
    root = make_docs({"a-gbk.txt": REPORT.encode("gbk"), "b-gb18030.txt": REPORT.encode("gb18030") + b"\n",
                      "c-bom.txt": b"\xef\xbb\xbf" + REPORT.encode("utf-8")})
    lines: list[str] = []
    summary = ingest_paths([root], tmp_path / "index", report=lines.append)
    assert summary.counts["added"] == 1 and summary.counts["duplicate"] == 2
    assert all("same" in line and "a-gbk.txt" in line for line in lines if "duplicate" in line)


def test_manifest_and_hidden_entries_are_not_reported_as_documents(tmp_path, make_docs):
    root = make_docs({"a.txt": REPORT, ".git/x.txt": "x", "manifest.csv": "path,year\na.txt,2020\n"})
    from kb.ingest import Ingest, load_manifest

    lines: list[str] = []
    ingest = Ingest(tmp_path / "index", manifest=load_manifest(root / "manifest.csv"), report=lines.append,
                    manifest_files=(root / "manifest.csv",))
    summary = ingest.run([root])
    assert summary.counts["added"] == 1 and summary.counts["skipped"] == 0 and summary.hidden == 1
    assert "1 hidden" in summary.line() and not lines


def test_two_empty_files_are_two_failures_not_a_duplicate(tmp_path, make_docs):
    root = make_docs({"a.txt": b"", "b.txt": b"", "c.txt": REPORT})
    summary = ingest_paths([root], tmp_path / "index")
    assert summary.counts["failed"] == 2 and summary.counts["duplicate"] == 0


def test_shown_paths_start_at_the_ingested_folder(tmp_path, make_docs):
    from kb.search import KnowledgeBase

    root = make_docs({"报告/a.txt": REPORT, "b.txt": NOTICE})
    ingest_paths([root, root / "b.txt"], tmp_path / "index")
    docs = {json.dumps(d["meta"]["shown_path"], ensure_ascii=False) for d in KnowledgeBase(tmp_path / "index").documents()}
    assert docs == {'"docs/报告/a.txt"', '"docs/b.txt"'}


def test_hits_in_paged_documents_say_which_page(tmp_path, make_docs):
    from pathlib import Path

    from kb.search import KnowledgeBase

    pdf = (Path(__file__).parent / "fixtures" / "read" / "chinese.pdf").read_bytes()
    root = make_docs({"两页.pdf": pdf})
    ingest_paths([root], tmp_path / "index")
    kb = KnowledgeBase(tmp_path / "index")
    hit = kb.search("政府工作报告摘要").hits[0]
    assert (hit.page, hit.page_label) == (2, "第 2 页")
    assert kb.search("城乡建设管理").hits[0].page == 1
    html, _ = kb.highlighted_text(hit.id, "摘要")
    assert '<span class="page-start" id="p2">第 2 页</span>' in html
    assert html.index('id="p2"') < html.index("<mark")  # the match is on page 2


def test_page_starts_survive_lines_joined_across_a_page_break():
    from kb.clean import clean
    from kb.pages import page_at, page_label, page_probes, page_starts

    raw = "第一页的标题\n这一句话从第一页开始，\f一直写到第二页才结束。\n第二页的第二行。\f第三页。"
    text = clean(raw)
    starts = page_starts(text, page_probes(raw, clean))
    assert starts[0] == 0 and text[starts[1]:].startswith("一直写到第二页") and text[starts[2]:] == "第三页。"
    assert page_at(starts, text.index("第二行")) == 2 and page_at(starts, 0) == 1
    assert page_label(["预算表", "人员表"], 2) == "人员表" and page_label([], 3) == "第 3 页"


def test_library_warnings_name_the_file(tmp_path, make_docs, capfd):
    from pathlib import Path

    pdf = (Path(__file__).parent / "fixtures" / "read" / "chinese.pdf").read_bytes()
    root = make_docs({"截断.pdf": pdf.rsplit(b"%%EOF", 1)[0]})  # no EOF marker: pypdf warns
    lines: list[str] = []
    ingest_paths([root], tmp_path / "index", report=lines.append)
    err = capfd.readouterr().err
    assert "EOF marker" not in err  # nothing bare on stderr
    eof = [line for line in lines if "EOF marker" in line]
    assert eof and all(line.startswith("warning: ") and "截断.pdf" in line for line in eof)
