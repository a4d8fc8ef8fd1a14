"""kb.read.ofd: OFD (GB/T 33190) packages written here by the tests, with text we wrote, and the
16 real files in ../shared/corpus/formats/ofd when present."""

from __future__ import annotations

import io
import re
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kb.read import archive

from kb.documents import PAGE_BREAK
from kb.errors import ReadError, ToolMissing
from kb.read import ofd

SHARED_OFD = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "formats" / "ofd"
NS = "http://www.ofdspec.org/2016"


def text_object(x: float, y: float, text: str, size: float = 5.0, object_id: int = 1) -> str:
    """A TextObject whose box starts at (x, y) mm, characters `size` mm apart."""
    width = size * len(text)
    deltas = f' DeltaX="g {len(text) - 1} {size}"' if len(text) > 1 else ""
    return (f'<ofd:TextObject ID="{object_id}" Boundary="{x} {y} {width} {size * 1.2}" Font="1" Size="{size}">'
            f'<ofd:TextCode X="0" Y="{size}"{deltas}>{text}</ofd:TextCode></ofd:TextObject>')


def content(*objects: str, template: str | None = None) -> str:
    use = f'<ofd:Template TemplateID="{template}" ZOrder="Background"/>' if template else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">'
            '<ofd:Area><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:Area>'
            f'{use}<ofd:Content><ofd:Layer ID="9">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>')


def make_ofd(
    pages: list[str],
    *,
    title: str | None = None,
    doc_root: str = "Doc_0/Document.xml",
    page_locs: list[str] | None = None,
    entry_names: list[str] | None = None,
    templates: dict[str, tuple[str, str]] | None = None,  # id -> (BaseLoc, content)
    extra_document: str = "",
    extra_entries: dict[str, bytes | str] | None = None,
) -> bytes:
    """An OFD package: OFD.xml -> Document.xml -> one Content.xml per page.

    `page_locs` are the BaseLoc values Document.xml gives; `entry_names` where the zip really
    stores each page (they differ in the non-standard variants)."""
    page_locs = page_locs or [f"Pages/Page_{i}/Content.xml" for i in range(len(pages))]
    entry_names = entry_names or [f"Doc_0/Pages/Page_{i}/Content.xml" for i in range(len(pages))]
    info = f"<ofd:Title>{title}</ofd:Title>" if title else ""
    tpl_decl = "".join(f'<ofd:TemplatePage ID="{tid}" BaseLoc="{loc}"/>' for tid, (loc, _) in (templates or {}).items())
    page_decl = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="{loc}"/>' for i, loc in enumerate(page_locs))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("OFD.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" DocType="OFD" Version="1.1">'
            f'<ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID>{info}</ofd:DocInfo>'
            f'<ofd:DocRoot>{doc_root}</ofd:DocRoot></ofd:DocBody></ofd:OFD>'))
        package.writestr("Doc_0/Document.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
            f'<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>{tpl_decl}'
            f'</ofd:CommonData><ofd:Pages>{page_decl}</ofd:Pages>{extra_document}</ofd:Document>'))
        for name, page in zip(entry_names, pages):
            package.writestr(name, page)
        for _, (loc, body) in (templates or {}).items():
            package.writestr("Doc_0/" + loc, body)
        for name, body in (extra_entries or {}).items():
            package.writestr(name, body)
    return buffer.getvalue()


def read(tmp_path: Path, data: bytes, name: str = "doc.ofd"):
    return ofd.read(tmp_path / name, data)


def read_error(tmp_path: Path, data: bytes) -> str:
    with pytest.raises(ReadError) as caught:
        read(tmp_path, data, "bad.ofd")
    assert caught.value.path.endswith("bad.ofd")
    return caught.value.cause


LETTER = [
    # Written out of reading order on purpose: the reader sorts by position.
    content(
        text_object(30, 90, "你院的请示收悉。经研究，同意张三同志辞职。", object_id=3),
        text_object(60, 60, "关于同意张三同志辞职的批复", size=7, object_id=2),
        text_object(80, 45, "某卫发〔2024〕7号", object_id=4),
        text_object(30, 75, "区中医院：", object_id=5),
        template="100",
    ),
    content(text_object(120, 60, "2024年3月10日", object_id=6), text_object(120, 50, "某某县卫生局", object_id=7)),
]
RED_HEADER = ("Tpls/Tpl_0/Content.xml", content(text_object(40, 25, "某某县卫生局文件", size=12, object_id=90)))


def test_pages_in_reading_order_with_template_text_and_a_page_break(tmp_path):
    extracted = read(tmp_path, make_ofd(LETTER, templates={"100": RED_HEADER}))
    assert (extracted.fmt, extracted.tool) == ("ofd", "ofdkit")
    first, second = extracted.text.split(PAGE_BREAK)
    lines = [line for line in first.split("\n") if line.strip()]
    assert lines == [
        "某某县卫生局文件", "某卫发〔2024〕7号", "关于同意张三同志辞职的批复", "区中医院：",
        "你院的请示收悉。经研究，同意张三同志辞职。",
    ]
    assert [line for line in second.split("\n") if line.strip()] == ["某某县卫生局", "2024年3月10日"]
    assert extracted.title is None  # no DocInfo title: the metadata step finds it in the text
    assert extracted.warnings == [] and extracted.page_labels == [] and extracted.ocr_pages == 0


@pytest.mark.parametrize(
    "title, kept",
    [
        ("关于同意张三同志辞职的批复", True),   # the heading of page 1
        ("某某县卫生局", False),               # the issuer, not a title
        ("批复.docx", False),                  # a file name
        ("2023年度工作总结", False),            # not on the first page
    ],
)
def test_docinfo_title_only_when_it_is_the_documents_heading(tmp_path, title, kept):
    extracted = read(tmp_path, make_ofd(LETTER, title=title, templates={"100": RED_HEADER}))
    assert extracted.title == (title if kept else None)


@pytest.mark.parametrize(
    "doc_root, page_locs, entry_names",
    [
        # absolute paths from the package root
        ("/Doc_0/Document.xml", ["/Doc_0/Pages/Page_0/Content.xml"], None),
        # relative to the root rather than to Document.xml
        ("Doc_0/Document.xml", ["Doc_0/Pages/Page_0/Content.xml"], None),
        # another letter case than the zip's entries
        ("doc_0/document.xml", ["pages/page_0/content.xml"], None),
        # no page container: the page sits beside Document.xml
        ("Doc_0/Document.xml", ["Content_0.xml"], ["Doc_0/Content_0.xml"]),
    ],
    ids=["absolute", "root-relative", "case", "no-page-container"],
)
def test_non_standard_resource_paths(tmp_path, doc_root, page_locs, entry_names):
    data = make_ofd(LETTER[:1], doc_root=doc_root, page_locs=page_locs, entry_names=entry_names,
                    templates={"100": RED_HEADER})
    text = read(tmp_path, data).text
    assert "关于同意张三同志辞职的批复" in text and "某某县卫生局文件" in text


def test_annotations_follow_their_page_each_line_once(tmp_path):
    stamp = "".join(text_object(10, 10 + 40 * i, "内部资料", object_id=200 + i) for i in range(6))  # tiled
    annotations = {
        "Doc_0/Annotations.xml": (f'<ofd:Annotations xmlns:ofd="{NS}"><ofd:Page PageID="1">'
                                  '<ofd:FileLoc>Pages/Page_0/Annotation.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>'),
        "Doc_0/Pages/Page_0/Annotation.xml": (
            f'<ofd:PageAnnot xmlns:ofd="{NS}">'
            f'<ofd:Annot Type="Stamp" ID="1"><ofd:Appearance Boundary="0 0 210 297">{stamp}</ofd:Appearance></ofd:Annot>'
            '<ofd:Annot Type="Highlight" ID="2"><ofd:Remark>请核对辞职日期</ofd:Remark>'
            '<ofd:Appearance Boundary="0 0 1 1"/></ofd:Annot></ofd:PageAnnot>'),
    }
    data = make_ofd(LETTER, extra_document="<ofd:Annotations>Annotations.xml</ofd:Annotations>",
                    extra_entries=annotations)
    first, second = read(tmp_path, data).text.split(PAGE_BREAK)
    assert first.split("\n")[-2:] == ["内部资料", "请核对辞职日期"]  # in the order of the annotations
    assert first.count("内部资料") == 1 and "内部资料" not in second


def _attachments(*items: tuple[str, str, str]) -> str:
    body = "".join(f'<ofd:Attachment ID="{i}" Name="{name}" Format="{fmt}"><ofd:FileLoc>{loc}</ofd:FileLoc></ofd:Attachment>'
                   for i, (name, fmt, loc) in enumerate(items))
    return f'<ofd:Attachments xmlns:ofd="{NS}">{body}</ofd:Attachments>'


def test_attachments_text_and_ofd_are_read_into_labelled_pages_others_named(tmp_path):
    inner = make_ofd([content(text_object(30, 40, "附件一：辞职申请书全文", object_id=1))])
    invoice_twin = ('<?xml version="1.0" encoding="UTF-8"?><eInvoice><DocNo>某卫发〔2024〕7号</DocNo>'
                    '<Note>仅在附件中出现的备注</Note><Sign>' + "QUJD" * 40 + '</Sign></eInvoice>')
    data = make_ofd(
        LETTER,
        extra_document="<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>",
        extra_entries={
            "Doc_0/Attachs/Attachments.xml": _attachments(
                ("申请书", "ofd", "apply.ofd"), ("说明", "txt", "note.txt"), ("原始数据", "xml", "data.xml"),
                ("照片", "", "/Doc_0/Res/photo.jpg"), ("丢失", "txt", "gone.txt")),
            "Doc_0/Attachs/apply.ofd": inner,
            "Doc_0/Attachs/note.txt": "附件说明：本批复抄送区人社局。".encode("gb18030"),
            "Doc_0/Attachs/data.xml": invoice_twin,
            "Doc_0/Res/photo.jpg": b"\xff\xd8\xff\xe0 not really a photo",
        },
    )
    extracted = read(tmp_path, data)
    pages = extracted.text.split(PAGE_BREAK)
    assert extracted.page_labels == ["第 1 页", "第 2 页", "附件：申请书", "附件：说明", "附件：原始数据"]
    assert pages[2:] == ["附件一：辞职申请书全文", "附件说明：本批复抄送区人社局。", "仅在附件中出现的备注"]
    assert extracted.warnings == [
        "attachment 照片 not read: jpg attachments are not read (only OFD, XML and text)",
        "attachment 丢失 not read: its file is missing from the package",
    ]


def test_a_signed_document_is_read_once(tmp_path):
    signature = (f'<ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo><ofd:References>'
                 '<ofd:Reference FileRef="/Doc_0/Pages/Page_0/Content.xml"><ofd:CheckValue>AA==</ofd:CheckValue></ofd:Reference>'
                 '</ofd:References><ofd:StampAnnot ID="1" PageRef="1" Boundary="100 200 40 40"/></ofd:SignedInfo></ofd:Signature>')
    data = make_ofd(LETTER, extra_entries={
        "Doc_0/Signs/Signatures.xml": f'<ofd:Signatures xmlns:ofd="{NS}"><ofd:Signature ID="1" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/></ofd:Signatures>',
        "Doc_0/Signs/Sign_0/Signature.xml": signature,
        "Doc_0/Signs/Sign_0/SignedValue.dat": b"\x30\x82\x01\x00",
    })
    text = read(tmp_path, data).text
    assert text.count("关于同意张三同志辞职的批复") == 1 and text.count(PAGE_BREAK) == 1


def test_text_drawn_from_glyph_numbers_alone_is_named_in_a_warning(tmp_path):
    glyphs = ('<ofd:TextObject ID="{}" Boundary="30 {} 100 6" Font="1" Size="5">'
              '<ofd:CGTransform CodePosition="0" CodeCount="4" GlyphCount="4"><ofd:Glyphs>5 6 7 8</ofd:Glyphs>'
              '</ofd:CGTransform><ofd:TextCode X="0" Y="5"> </ofd:TextCode></ofd:TextObject>')
    page = content(text_object(30, 20, "第一章 总则"), *(glyphs.format(10 + i, 40 + 10 * i) for i in range(3)))
    extracted = read(tmp_path, make_ofd([page]))
    assert extracted.text == "第一章 总则"
    assert extracted.warnings == [
        "3 of 4 text objects hold glyph numbers without their characters "
        "(CGTransform with a private font encoding): that text cannot be extracted"
    ]


# --- bad files --------------------------------------------------------------------------------


def test_corrupt_packages_give_one_clear_error(tmp_path):
    good = make_ofd(LETTER)
    assert read_error(tmp_path, good[: len(good) // 2]).startswith("corrupt .ofd: not a readable zip package")
    assert read_error(tmp_path, "这不是 OFD 文件".encode()).startswith("corrupt .ofd: not a readable zip package")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("readme.txt", "no OFD.xml here")
    assert read_error(tmp_path, buffer.getvalue()) == "corrupt .ofd: not an OFD file: OFD.xml is missing"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("OFD.xml", f'<ofd:OFD xmlns:ofd="{NS}"><ofd:DocBody><ofd:DocRoot>Doc_0/Doc')  # cut off
    assert read_error(tmp_path, buffer.getvalue()).startswith("corrupt .ofd: OFD.xml: invalid XML")


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("OFD.xml", b" " * (archive.RATIO_CHECK_FROM_BYTES + 1))  # ~1000x compression
    assert len(buffer.getvalue()) < 100_000
    cause = read_error(tmp_path, buffer.getvalue())
    assert cause.startswith("suspicious .ofd: OFD.xml inflates") and "zip bomb?" in cause


def test_entity_expansion_is_refused_fast(tmp_path):
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
              + f']><ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer>'
              '<ofd:TextObject ID="1" Boundary="0 0 10 10" Size="5"><ofd:TextCode X="0" Y="5">&lol9;</ofd:TextCode>'
              '</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>')
    data = make_ofd([laughs, LETTER[1]])
    started = time.perf_counter()
    try:
        extracted = read(tmp_path, data)
    except ReadError as error:
        assert "DTD" in error.cause or "entit" in error.cause
    else:  # the page with the entities is lost, with a warning; the other page is read
        assert "lollol" not in extracted.text and "某某县卫生局" in extracted.text
        assert any("DTD" in warning for warning in extracted.warnings)
    assert time.perf_counter() - started < 2


def test_without_ofdkit_the_file_is_skipped_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ofdkit", None)  # import ofdkit now raises ImportError
    with pytest.raises(ToolMissing) as caught:
        read(tmp_path, make_ofd(LETTER))
    assert caught.value.tool == "ofdkit" and caught.value.install == ofd.OFDKIT_INSTALL
    assert "pip install ofdkit==" in caught.value.cause


# --- the real files in ../shared ----------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def shared_ofd_files() -> list[Path]:
    if not SHARED_OFD.exists():
        pytest.skip(f"real data not present: {SHARED_OFD} (../shared is only on the team's machines)")
    return sorted(SHARED_OFD.glob("*.ofd"))


@pytest.mark.shared
def test_every_real_ofd_file_reads_readable_chinese():
    files = shared_ofd_files()
    assert len(files) == 16
    failures = []
    for path in files:
        try:
            extracted = ofd.read(path, path.read_bytes())
        except ReadError as exc:
            failures.append(f"{path.name}: {exc.cause}")
            continue
        text = extracted.text
        letters = len("".join(text.split()))
        explained = any("cannot be extracted" in warning for warning in extracted.warnings)
        if "\ufffd" in text or len(CJK.findall(text)) < max(3, 0.1 * letters) and not explained:
            failures.append(f"{path.name}: not readable Chinese: {text[:80]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, pages, expected",
    [
        ("converter_n.ofd", 2, ["路桥区卫生局文件", "路卫发〔2011〕76号", "关于同意张阿三同志辞职的批复"]),
        ("converter_testPathFillOpacity.ofd", 1, ["关于加快南货场铁路涵洞下穿建设的函", "蚌山区政府："]),
        ("converter_signout.ofd", 1, ["市政府文件处理", "市委主要领导同志调研后续落实事项的通知"]),
        ("reader_path_unstd.ofd", 2, ["立案决定书", "（存根）"]),
        ("layout_no_page_container.ofd", 1, ["上海增值税电子普通发票", "发票代码：031001900511"]),
        ("layout_fptpl.ofd", 1, ["重庆增值税电子普通发票", "财天下科技有限公司"]),
        ("converter_testPathClip.ofd", 1, ["采矿许可证", "证号：C1234567890123123123123"]),
        ("sign_doc1File.ofd", 11, []),
        ("reader_SESV4SignDoc.ofd", 1, ["你好呀，OFD Reader&Writer！"]),
    ],
)
def test_real_ofd_files_text(name, pages, expected):
    shared_ofd_files()
    path = SHARED_OFD / name
    extracted = ofd.read(path, path.read_bytes())
    assert extracted.text.count(PAGE_BREAK) + 1 == pages
    for line in expected:
        assert line in extracted.text, line


@pytest.mark.shared
def test_real_ofd_titles_annotations_and_attachments():
    shared_ofd_files()

    def read_shared(name):
        return ofd.read(SHARED_OFD / name, (SHARED_OFD / name).read_bytes())

    assert read_shared("converter_z.ofd").title == "11.4 字型变换"  # DocInfo title = the first heading
    assert read_shared("converter_testPathFillOpacity.ofd").title is None  # DocInfo title is the issuer
    essay = read_shared("converter_ano.ofd")
    assert essay.text.split(PAGE_BREAK)[0].count("保密资料") == 1  # a tiled stamp annotation, once
    # Its body text is glyph numbers over subset fonts with private codes: said, not guessed.
    assert essay.warnings == [
        "137 of 316 text objects hold glyph numbers without their characters "
        "(CGTransform with a private font encoding): that text cannot be extracted"
    ]
    invoice = read_shared("converter_1.ofd")  # its XML twin repeats the page: nothing added
    assert invoice.page_labels == [] and invoice.text.count(PAGE_BREAK) == 0
    attached = read_shared("reader_AddAttachment.ofd")
    assert attached.text == "这是一个带有附件的OFD文件"
    assert attached.warnings == ["attachment Gao not read: jpg attachments are not read (only OFD, XML and text)"]
