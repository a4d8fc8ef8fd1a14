"""Office formats and archives: legacy Word/WPS, RTF, spreadsheets, slides, archive members, and
the lazy reader table. Inputs: tests/fixtures/read/office/ (made by make_office.py from texts
written for these tests), files built in tmp_path, and the real .doc files in ../shared."""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import ROOT, shared

import kb.read
from kb.documents import PAGE_BREAK
from kb.errors import ReadError, ToolMissing, UnsupportedFormat
from kb.read import (
    SUPPORTED_SUFFIXES,
    TABLE_SUFFIXES,
    archive,
    read_bytes,
    unsupported_reason,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "read"
OFFICE = FIXTURES / "office"


def _generator():
    spec = importlib.util.spec_from_file_location("make_office", FIXTURES / "make_office.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_office = _generator()


def fixture(name: str) -> bytes:
    return (OFFICE / name).read_bytes()


def read(tmp_path: Path, name: str, data: bytes, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    return read_bytes(path, data, **kwargs)


def read_error(tmp_path: Path, name: str, data: bytes) -> str:
    with pytest.raises(ReadError) as caught:
        read(tmp_path, name, data)
    assert caught.value.path.endswith(name)
    return caught.value.cause


def test_fixtures_are_what_the_generator_writes():
    """Stale fixtures would test old behaviour: regenerate with make_office.py after changing it."""
    for name, make in make_office.FIXTURES.items():
        if name.endswith((".xlsx", ".pptx", ".7z")):
            continue  # these embed the time they were made
        assert fixture(name) == make(), f"{name}: run tests/fixtures/read/make_office.py"


# --- the reader table -----------------------------------------------------------------------


def test_new_kinds_are_registered():
    assert {".doc", ".dot", ".wps", ".wpt", ".rtf", ".xlsx", ".xlsm", ".xls", ".pptx", ".ppsx", ".pptm",
            ".ppt", ".pps", ".ofd", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"} <= SUPPORTED_SUFFIXES
    assert TABLE_SUFFIXES == {".csv", ".tsv", ".json"}
    assert not TABLE_SUFFIXES & SUPPORTED_SUFFIXES
    assert kb.read.ARCHIVE_SUFFIXES == archive.ARCHIVE_SUFFIXES


def test_no_unsupported_message_for_a_kind_we_read():
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix not in kb.read._UNSUPPORTED, suffix
    assert "save it as .docx" not in unsupported_reason(".doc")
    assert unsupported_reason(".et") == "spreadsheets of this kind are not read; save it as .xlsx"
    assert unsupported_reason(".csv").startswith("CSV data is not a document")


def test_importing_kb_read_loads_no_format_library():
    code = (
        "import sys, kb.read; heavy = {'docx', 'pypdf', 'pdfminer', 'openpyxl', 'xlrd', 'pptx', 'olefile',"
        " 'py7zr', 'rarfile', 'bs4', 'lxml'}; print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_reader_module_not_installed_is_unsupported_not_an_import_error(tmp_path, monkeypatch):
    monkeypatch.setitem(kb.read._READERS, ".ofd", "kb.read.not_written_yet:read")
    with pytest.raises(UnsupportedFormat) as caught:
        read(tmp_path, "a.ofd", b"PK\x03\x04")
    assert type(caught.value) is UnsupportedFormat
    assert caught.value.cause == ".ofd files cannot be read by this installation (kb.read.not_written_yet is missing)"


def test_a_package_missing_for_a_reader_names_it_and_how_to_install(tmp_path, monkeypatch):
    def needs_pptx(path, data):
        raise ModuleNotFoundError("No module named 'pptx'", name="pptx")

    monkeypatch.setitem(kb.read._READERS, ".pptx", needs_pptx)
    with pytest.raises(ToolMissing) as caught:
        read(tmp_path, "a.pptx", b"PK")
    assert caught.value.tool == "python-pptx"
    assert caught.value.install.startswith("pip install python-pptx")


def test_tables_are_read_only_when_asked_for(tmp_path):
    data = "县区,人口\n祁县,26\n".encode("gbk")
    with pytest.raises(UnsupportedFormat):
        read(tmp_path, "a.csv", data)
    assert read(tmp_path, "a.csv", data, tables=True).text == "县区\t人口\n祁县\t26"
    assert unsupported_reason(".csv", tables=True) == ".csv is read as a table"
    assert kb.read.is_supported(".csv", tables=True) and not kb.read.is_supported(".csv")


# --- legacy Word and WPS --------------------------------------------------------------------


def test_word97_text_tables_fields_and_pieces(tmp_path):
    extracted = read(tmp_path, "synthetic.doc", fixture("synthetic.doc"))
    assert extracted.text == make_office.DOC_EXPECTED
    assert (extracted.fmt, extracted.warnings) == ("doc", [])
    assert "页眉" not in extracted.text  # the header story is left out
    assert "HYPERLINK" not in extracted.text  # a field's code is left out, its result kept


@pytest.mark.parametrize("suffix", [".wps", ".dot", ".wpt", ".DOC"])
def test_wps_and_templates_are_the_same_format(tmp_path, suffix):
    extracted = read(tmp_path, "a" + suffix, fixture("synthetic.doc"))
    assert extracted.text == make_office.DOC_EXPECTED
    assert extracted.fmt == suffix.lower().lstrip(".")


def test_word97_without_paragraph_properties_still_gives_the_text(tmp_path, monkeypatch):
    from kb.read import word97

    def unreadable(*args):
        raise ValueError("damaged page")

    monkeypatch.setattr(word97, "_ParagraphProperties", unreadable)
    extracted = read(tmp_path, "a.doc", fixture("synthetic.doc"))
    assert extracted.warnings == ["table layout unreadable: table cells may run together"]
    assert "县区\t人口（万）" in extracted.text.split("\n")
    assert "政府网站" in extracted.text


@pytest.mark.parametrize(
    "name, data, cause",
    [
        ("encrypted.doc", fixture("encrypted.doc"), "password-protected .doc"),
        ("word95.doc", fixture("word95.doc"), "a Word 6/95 document (older than Word 97) is not read"),
        ("workbook-named.doc", fixture("workbook-named.doc"), "not a Word document: this OLE file is an Excel .xls workbook"),
        ("truncated.doc", fixture("synthetic.doc")[:3000], "corrupt .doc"),
        ("garbage.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8, "corrupt .doc"),
        ("binary.doc", bytes(range(256)) * 8, "not a Word .doc file (no OLE header)"),
    ],
    ids=["encrypted", "word95", "xls-renamed", "truncated", "garbage", "not-ole"],
)
def test_bad_doc_files_give_one_clear_error(tmp_path, name, data, cause):
    assert read_error(tmp_path, name, data).startswith(cause)


def test_doc_files_holding_rtf_html_docx_or_text_are_read_as_what_they_are(tmp_path):
    rtf = read(tmp_path, "a.doc", fixture("chinese.rtf"))
    assert rtf.text == make_office.RTF_EXPECTED
    assert rtf.warnings[0] == "this .doc is really an RTF file; read as such"
    page = read(tmp_path, "b.doc", "<html><body><p>关于防汛救灾的通知</p></body></html>".encode("utf-8"))
    assert "关于防汛救灾的通知" in page.text
    assert page.warnings[0] == "this .doc is really a web page (HTML); read as such"
    text = read(tmp_path, "t.doc", "这是另存为 .doc 的纯文本".encode("gbk"))
    assert text.text == "这是另存为 .doc 的纯文本"
    assert text.warnings[0] == "this .doc is really plain text; read as such"
    import docx

    document = docx.Document()
    document.add_paragraph("民营经济发展情况")
    buffer = io.BytesIO()
    document.save(buffer)
    package = read(tmp_path, "c.doc", buffer.getvalue())
    assert package.text == "民营经济发展情况"
    assert package.warnings[0] == "this .doc is really a .docx package; read as such"


DOCX_DOC = "corpus/formats/word-pdf/docx_doc"
FIELD_CODES = re.compile(r"HYPERLINK|PAGEREF|MERGEFORMAT|\bTOC \\|\bPAGE\b")
CJK = re.compile(r"[\u4e00-\u9fff]")
MOJIBAKE = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]")


@pytest.mark.shared
def test_the_real_doc_files_in_shared_read_as_their_docx_twins():
    """The six real .doc files (code pages 936 and 1200, three written by WPS): Chinese text,
    no field codes; where the same draft exists as .docx, exactly the .docx reader's text."""
    folder = shared(DOCX_DOC)
    docs = sorted(folder.glob("*.doc"))
    assert len(docs) == 6
    twins = 0
    for path in docs:
        extracted = read_bytes(path, path.read_bytes())
        text = extracted.text
        assert extracted.warnings == [], path.name
        assert len(CJK.findall(text)) > 0.5 * len(text), path.name
        assert not MOJIBAKE.search(text) and "\ufffd" not in text, path.name
        assert not FIELD_CODES.search(text), path.name
        twin = path.with_suffix(".docx")
        if twin.exists():
            twins += 1
            assert text == read_bytes(twin, twin.read_bytes()).text, path.name
    assert twins == 5


# --- RTF ------------------------------------------------------------------------------------


def test_chinese_rtf(tmp_path):
    extracted = read(tmp_path, "a.rtf", fixture("chinese.rtf"))
    assert extracted.text == make_office.RTF_EXPECTED
    assert (extracted.fmt, extracted.encoding, extracted.warnings) == ("rtf", "gb18030", [])
    for left_out in ("页眉", "模板标题", "脚注", "HYPERLINK", "宋体"):
        assert left_out not in extracted.text


def test_rtf_big5_font_and_western_code_page(tmp_path):
    big5 = "".join(f"\\'{b:02x}" for b in "臺灣與香港".encode("cp950"))
    data = (r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}{\f1\fcharset136 MingLiU;}}"
            r"\f0 caf\'e9 \f1 " + big5 + r"\par}").encode("ascii")
    assert read(tmp_path, "a.rtf", data).text == "café 臺灣與香港"


def test_rtf_broken_and_truncated(tmp_path):
    data = fixture("chinese.rtf")
    cut = read(tmp_path, "cut.rtf", data[: len(data) // 2])  # no closing braces: what is there is read
    assert cut.text.startswith("第一条")
    assert read_error(tmp_path, "not.rtf", "不是 RTF".encode("utf-8")) == "not an RTF file (no {\\rtf header)"
    odd = read(tmp_path, "odd.rtf", r"{\rtf1\ansicpg936 \'d6\'d0\'ce}".encode("ascii"))
    assert odd.text == "中\ufffd" and odd.warnings == ["1 undecodable byte(s) in the text replaced with U+FFFD"]


# --- spreadsheets ---------------------------------------------------------------------------


def test_xlsx_sheets_as_pages(tmp_path):
    extracted = read(tmp_path, "a.xlsx", fixture("table.xlsx"))
    sheets = extracted.text.split(PAGE_BREAK)
    assert extracted.page_labels == ["2023年", "汇总"]  # the empty sheet is left out
    assert sheets[0].split("\n") == [
        "县区\t项目\t投资（万元）\t开工日期",
        "祁县\t乡村振兴示范村\t1200\t2023-03-17",
        "平遥县\t古城保护 修缮工程\t85.5",
    ]
    assert sheets[1] == "\t合计\t1285.5"
    assert (extracted.fmt, extracted.warnings) == ("xlsx", [])


def test_xls_sheets_as_pages(tmp_path):
    extracted = read(tmp_path, "a.xls", fixture("table.xls"))
    assert extracted.text == "县区\t收入（万元）\n祁县\t1234\n平遥县\t56.5\t2023-03-15"
    assert (extracted.page_labels, extracted.fmt) == (["收入"], "xls")


def test_a_big_table_is_cut_with_a_warning(tmp_path, monkeypatch):
    from kb.read import sheets

    monkeypatch.setattr(sheets, "MAX_ROWS", 2)
    extracted = read(tmp_path, "a.xlsx", fixture("table.xlsx"))
    assert extracted.text == "县区\t项目\t投资（万元）\t开工日期\n祁县\t乡村振兴示范村\t1200\t2023-03-17"
    assert extracted.warnings == ["table cut: only the first 2 rows / 1,000,000 cells were read"]


def test_workbooks_under_the_other_suffix_and_exports_named_xls(tmp_path):
    assert read(tmp_path, "a.xls", fixture("table.xlsx")).page_labels == ["2023年", "汇总"]
    assert read(tmp_path, "b.xlsx", fixture("table.xls")).page_labels == ["收入"]
    html = read(tmp_path, "c.xls", "<html><table><tr><td>县区</td><td>祁县</td></tr></table></html>".encode("gbk"))
    assert "祁县" in html.text and "web page" in html.warnings[0]
    tsv = read(tmp_path, "d.xls", "县区\t人口\n祁县\t26\n".encode("gbk"))
    assert tsv.text == "县区\t人口\n祁县\t26" and "text table" in tsv.warnings[0]


@pytest.mark.parametrize(
    "name, data, cause",
    [
        ("a.xls", fixture("synthetic.doc"), "not an Excel workbook"),
        ("b.xlsx", fixture("synthetic.doc"), "not an Excel workbook: an OLE file of another kind"),
        ("c.xlsx", b"PK\x03\x04 truncated", "corrupt workbook"),
        ("d.xls", bytes(range(256)) * 4, "not an Excel workbook (no OLE header) nor a text table"),
    ],
)
def test_bad_workbooks(tmp_path, name, data, cause):
    assert read_error(tmp_path, name, data).startswith(cause)


def test_csv_tsv_and_json_tables(tmp_path):
    csv_data = '县区,说明\r\n祁县,"含逗号,和\n换行"\r\n\r\n平遥县,古城\r\n'.encode("gb18030")
    extracted = read(tmp_path, "a.csv", csv_data, tables=True)
    assert extracted.text == "县区\t说明\n祁县\t含逗号,和 换行\n平遥县\t古城"
    assert (extracted.fmt, extracted.encoding) == ("csv", "gb18030")
    assert read(tmp_path, "b.csv", "县区;人口\n祁县;26".encode("utf-8"), tables=True).text == "县区\t人口\n祁县\t26"
    assert read(tmp_path, "c.tsv", "县区\t人口,万\n".encode("utf-8"), tables=True).text == "县区\t人口,万"
    records = '[{"县区": "祁县", "人口": 26, "乡镇": ["城关镇", "昭馀镇"]}, {"县区": "平遥县"}]'
    assert read(tmp_path, "d.json", records.encode("utf-8"), tables=True).text == "祁县\t26\t城关镇\t昭馀镇\n平遥县"
    with pytest.raises(ReadError, match="not valid JSON"):
        read(tmp_path, "e.json", "{坏的".encode("utf-8"), tables=True)


def test_a_zip_bomb_workbook_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/worksheets/sheet1.xml", b" " * (300 * 1024 * 1024))
    assert "zip bomb" in read_error(tmp_path, "bomb.xlsx", buffer.getvalue())


# --- slides ---------------------------------------------------------------------------------


def test_pptx_slide_by_slide(tmp_path):
    extracted = read(tmp_path, "a.pptx", fixture("deck.pptx"))
    slides = extracted.text.split(PAGE_BREAK)
    assert extracted.page_labels == ["第 1 张幻灯片", "第 2 张幻灯片", "第 4 张幻灯片"]  # slide 3 is blank
    assert slides[0] == "乡村振兴工作汇报\n祁县人民政府\n二〇二三年三月"
    assert slides[1].split("\n") == [
        "主要成效", "新建示范村十二个", "县区\t示范村", "祁县\t十二", "组合图形中的文字", "讲稿：强调民营经济的作用"
    ]
    assert slides[2] == "下一步打算\n巩固脱贫攻坚成果"
    assert (extracted.title, extracted.fmt) == ("乡村振兴工作汇报", "pptx")


def test_ppt_slide_list_text_drawing_text_and_notes_newest_edit_only(tmp_path):
    extracted = read(tmp_path, "a.ppt", fixture("slides.ppt"))
    assert extracted.text == make_office.PPT_EXPECTED
    assert "旧版本" not in extracted.text  # the slide's version before its last edit
    assert (extracted.page_labels, extracted.title, extracted.fmt) == (["第 1 张幻灯片", "第 2 张幻灯片"], "年度工作总结", "ppt")
    assert read(tmp_path, "a.pps", fixture("slides.ppt")).text == make_office.PPT_EXPECTED


def test_bad_ppt_files(tmp_path):
    assert read_error(tmp_path, "a.ppt", fixture("encrypted.ppt")) == "password-protected .ppt"
    broken = make_office.ole_file({"PowerPoint Document": b"\0" * 64, "Current User": b"\0" * 16 + b"\x10\0\0\0"})
    assert read_error(tmp_path, "b.ppt", broken).startswith("corrupt .ppt")
    assert read_error(tmp_path, "c.ppt", fixture("slides.ppt")[:2000]).startswith("corrupt .ppt")


def test_bad_presentations(tmp_path):
    assert read_error(tmp_path, "a.ppt", fixture("synthetic.doc")).startswith("not a PowerPoint presentation")
    assert read_error(tmp_path, "b.pptx", b"PK\x03\x04 no").startswith("corrupt presentation")
    assert read(tmp_path, "e.pptx", fixture("slides.ppt")).warnings[0] == "this file is really a PowerPoint 97-2003 .ppt; read as such"
    assert read_error(tmp_path, "c.ppt", b"plain text").startswith("not a PowerPoint .ppt file")
    assert read(tmp_path, "d.ppt", fixture("deck.pptx")).page_labels[0] == "第 1 张幻灯片"


# --- archives -------------------------------------------------------------------------------


def members(name: str, data: bytes | None = None) -> tuple[list[tuple[str, bytes]], list[str]]:
    problems: list[str] = []
    found = list(archive.members(Path(name), fixture(name) if data is None else data, problems))
    return found, problems


def test_zip_member_names_written_in_gbk_are_decoded():
    found, problems = members("gbk-names.zip")
    assert [name for name, _ in found] == ["2023年/工作总结.txt", "通知.txt", "readme.txt"]
    assert found[1][1] == "关于防汛救灾的通知".encode("utf-8")
    assert problems == []


def test_zip_members_that_escape_the_folder_are_skipped_with_a_problem():
    found, problems = members("traversal.zip")
    assert found == [("ok/好.txt", "内容".encode("utf-8"))]  # __MACOSX and the folder entry: silently
    assert problems == [
        "../evil.txt: unsafe path (absolute, drive letter or '..'); skipped",
        "/etc/evil.txt: unsafe path (absolute, drive letter or '..'); skipped",
        "C:/Windows/evil.txt: unsafe path (absolute, drive letter or '..'); skipped",
        "a/../../evil.txt: unsafe path (absolute, drive letter or '..'); skipped",
        "link.txt: a symbolic link, not a file; skipped",
    ]


def test_zip_bomb_member_is_skipped_and_the_rest_read():
    found, problems = members("bomb.zip")
    assert found == [("small.txt", "正常的小文件".encode("utf-8"))]
    assert problems == ["zeros.txt: inflates 1029x to 20 MB (zip bomb?); skipped"]


def test_archive_size_and_count_limits(monkeypatch):
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 50)
    found, problems = members("gbk-names.zip")
    assert [name for name, _ in found] == ["2023年/工作总结.txt"]
    assert problems[0] == "通知.txt: the archive inflates past 0 MB in all (zip bomb?); skipped"
    monkeypatch.setattr(archive, "MAX_MEMBERS", 2)
    with pytest.raises(ReadError, match="3 members, over the limit of 2"):
        members("gbk-names.zip")
    assert archive.declared_entries(fixture("gbk-names.zip")) == 3  # read before zipfile parses them


def test_big_and_encrypted_members_are_skipped(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("secret.txt", b"xx")
        package.writestr("big.txt", b"x" * 1000)
        package.writestr("ok.txt", b"ok")
    data = bytearray(buffer.getvalue())
    data[6] |= 0x1  # zipfile cannot encrypt: mark the first member encrypted, in both headers
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 999)
    found, problems = members("a.zip", bytes(data))
    assert found == [("ok.txt", b"ok")]
    assert problems == ["secret.txt: password-protected; skipped", "big.txt: 0 MB, over the 0 MB limit for a file; skipped"]


def test_nested_archives_are_opened_down_to_the_depth_limit():
    found, problems = members("nested.zip")
    assert [name for name, _ in found] == ["第1层.txt", "inner2.zip!/第2层.txt", "inner2.zip!/inner3.zip!/第3层.txt"]
    assert problems == ["inner2.zip!/inner3.zip!/inner4.zip: an archive nested more than 3 deep; skipped"]


def test_a_corrupt_nested_archive_is_a_problem_not_a_failure():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("broken.zip", b"PK\x03\x04 not really")
        package.writestr("a.txt", b"a")
    found, problems = members("outer.zip", buffer.getvalue())
    assert found == [("a.txt", b"a")]
    assert problems[0].startswith("broken.zip: corrupt .zip")


def test_7z_members():
    found, problems = members("chinese.7z")
    assert found == [("报告/民营经济.txt", "民营经济发展报告。".encode("utf-8")), ("b.txt", b"second member")]
    assert problems == []


def test_corrupt_and_unknown_archives():
    with pytest.raises(ReadError, match="corrupt .zip"):
        members("a.zip", b"PK\x03\x04 broken")
    with pytest.raises(ReadError, match="corrupt .7z"):
        members("a.7z", b"7z\xbc\xaf\x27\x1c broken")
    with pytest.raises(UnsupportedFormat):
        members("a.tar", b"anything")


def test_rar_without_a_program_to_unpack_it_names_the_tool(monkeypatch):
    monkeypatch.setattr(archive.shutil, "which", lambda name: None)
    with pytest.raises(ToolMissing) as caught:
        members("a.rar", b"Rar!\x1a\x07\x01\x00")
    assert (caught.value.tool, caught.value.install) == ("unar (or unrar)", "apt-get install unar")
