"""OFD (GB/T 33190, the national fixed-layout format: a zip of XML): the text of every page in
reading order, PAGE_BREAK between pages.

Page text comes from ofdkit (pure Python, no dependencies): it follows OFD.xml -> DocRoot ->
Document.xml -> pages, their layers, page blocks, composite objects and templates (red headers
live there), resolves the non-standard resource paths producers write (absolute ``/Doc_0/...``,
relative to the document or the root, another letter case), sorts text into lines by position
and refuses XML with a DTD. On the 16 real files in ../shared it read all 16 with every
character of the pages and templates they use; easyofd read 11 (and needs PyMuPDF), ofdparser
none (it wants a SimSun font on disk).

What this module adds around it:
- zip limits before anything is inflated (zip bombs), one ReadError for a corrupt package;
- annotations (comments, stamps, highlights): their text follows the text of their page, each
  distinct line once, so that it is found but never repeated 30 times by a tiled watermark;
- attachments: an attached OFD or text/XML file is read into a page of its own labelled
  "附件：name", without the lines the document already holds (an e-invoice's XML twin adds
  only what its page lacks) or long runs of codes (signatures); other kinds are named in a warning;
- a warning when much of the text is glyph numbers without characters (CGTransform over a
  subset font with private codes): no reader can extract it;
- signatures need nothing: seals are images, and the signed pages are read once, as pages
  (Signature.xml lists them again only as references to check);
- the title: DocInfo/Title when it is a real heading (written on the first page, not a file
  name or an organisation), else None and the metadata step finds the title in the text. The
  document number (发文字号) stays in the text.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

from kb.documents import PAGE_BREAK, Extracted
from kb.errors import ReadError, ToolMissing
from kb.read.base import brief

# Declared sizes are checked before anything is inflated; zipfile never inflates an entry past
# its declared size, so these bound memory (the same limits as .docx).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # larger attachments are named, not read
ATTACHMENT_DEPTH = 1  # an attached OFD is read; its own attachments are only named

OFDKIT_INSTALL = "pip install ofdkit==0.2.0"
_TEXT_ATTACHMENTS = {"txt", "text", "xml", "csv", "md", "json"}
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
_FILE_NAME_TITLE = re.compile(
    r"\.(?:docx?|wps|rtf|odt|pdf|ofd|txt|xml|html?|xlsx?|pptx?)$|^Microsoft Word - |^(?:无标题|untitled|文档\d*|document\d*)$",
    re.IGNORECASE,
)
# Attachment lines that are machine data, not text: signatures, checksums, comma-joined codes.
_CODE_LINE = re.compile(r"[\x21-\x7e]{40,}")
# A DocInfo title that is the issuing body (蚌埠市国土资源局) rather than the document's title.
_ORGANISATION = re.compile(r"(?:局|厅|委|办|政府|委员会|办公室|公司|部|院|处|中心|文件)$")


def read(path: Path, data: bytes, *, depth: int = 0) -> Extracted:
    """Read an OFD file; ReadError for a corrupt, empty or suspicious package."""
    _check_zip(path, data)
    try:
        import ofdkit
    except ImportError:
        raise ToolMissing(path, "ofdkit", OFDKIT_INSTALL, "OFD files") from None
    try:
        document = ofdkit.open(data)
    except ofdkit.OFDLimitError as exc:
        raise ReadError(path, f"suspicious .ofd: {exc}") from exc
    except ofdkit.OFDError as exc:
        raise ReadError(path, f"corrupt .ofd: {exc}") from exc
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(path, f"corrupt .ofd: {brief(exc)}") from exc
    with document:
        warnings: list[str] = []
        pages = []
        for page in document.pages:
            try:
                pages.append(page.text())
            except ofdkit.OFDError as exc:  # one broken page must not lose the others
                warnings.append(f"page {page.index + 1} could not be read ({exc})")
                pages.append("")
        warnings.extend(document.warnings)
        title = _title(document.info.title, pages[0] if pages else "")
        page_ids = [page.id for page in document.pages]
    package = _Package(path, data)
    glyph_only, objects = package.glyph_only_text()
    if glyph_only > objects / 4:
        warnings.append(
            f"{glyph_only} of {objects} text objects hold glyph numbers without their characters "
            "(CGTransform with a private font encoding): that text cannot be extracted"
        )
    for index, lines in package.annotations(page_ids).items():
        pages[index] = _append_lines(pages[index], lines)
    labels: list[str] = []
    attached = package.attachments(depth, pages, warnings)
    if attached:
        labels = [f"第 {number} 页" for number in range(1, len(pages) + 1)]
        for label, text in attached:
            labels.append(label)
            pages.append(text)
    return Extracted(
        text=PAGE_BREAK.join(pages), fmt="ofd", title=title, warnings=warnings, page_labels=labels, tool="ofdkit"
    )


def _check_zip(path: Path, data: bytes) -> None:
    """Raise ReadError unless `data` is a zip whose declared sizes are safe to inflate."""
    from kb.read.archive import check_package

    check_package(path, data, ".ofd", MAX_ENTRIES, MAX_UNCOMPRESSED_BYTES)


def _title(title: str | None, first_page: str) -> str | None:
    """DocInfo/Title when it is the document's own heading: written on its first page, not a
    file name or placeholder, not just the issuing organisation."""
    title = " ".join((title or "").split())
    if not title or _FILE_NAME_TITLE.search(title) or _ORGANISATION.search(title):
        return None
    squeezed = "".join(first_page.split())
    return title if "".join(title.split()) in squeezed else None


def _append_lines(text: str, lines: list[str]) -> str:
    return "\n".join(part for part in (text, *lines) if part)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str):
    return [child for child in element if _local(child.tag) == name] if element is not None else []


def _child_text(element, name: str) -> str | None:
    for child in _children(element, name):
        if child.text and child.text.strip():
            return child.text.strip()
    return None


def _texts(element) -> list[str]:
    """The text of each TextObject under `element`, codes joined, in document order."""
    texts = []
    for node in element.iter():
        if _local(node.tag) == "TextObject":
            text = "".join(code.text or "" for code in node.iter() if _local(code.tag) == "TextCode").strip()
            if text:
                texts.append(text)
    return texts


class _Package:
    """The zip's parts by name, for what ofdkit does not read: annotations and attachments.

    Locations are resolved the tolerant way ofdkit resolves them: absolute from the root,
    relative to the referring part or to the root, letter case ignored."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = {info.filename.lstrip("/"): info for info in self.zip.infolist() if not info.is_dir()}
        self.folded = {name.casefold(): name for name in self.names}
        self.documents = self._documents()

    def resolve(self, base: str, location: str | None) -> str | None:
        location = (location or "").strip().replace("\\", "/")
        if not location:
            return None
        if location.startswith("/"):
            candidates = [location.lstrip("/")]
        else:
            candidates = [posixpath.join(posixpath.dirname(base), location), location]
        for candidate in candidates:
            candidate = posixpath.normpath(candidate)
            found = self.names.get(candidate) and candidate or self.folded.get(candidate.casefold())
            if found:
                return found
        return None

    def xml(self, name: str | None):
        """The parsed part, or None when it is missing, too large or not XML."""
        info = self.names.get(name or "")
        if info is None or info.file_size > MAX_ATTACHMENT_BYTES:
            return None
        try:
            root = etree.fromstring(self.zip.read(info), _XML_PARSER)
        except (etree.XMLSyntaxError, ValueError, zipfile.BadZipFile, OSError):
            return None
        return root

    def _documents(self) -> list[tuple[str, object]]:
        """(path, root) of each DocBody's Document.xml."""
        entry = self.folded.get("ofd.xml")
        root = self.xml(entry)
        documents = []
        for body in _children(root, "DocBody"):
            location = self.resolve(entry, _child_text(body, "DocRoot"))
            document = self.xml(location)
            if document is not None:
                documents.append((location, document))
        return documents

    def glyph_only_text(self) -> tuple[int, int]:
        """(text objects drawn from glyph numbers alone, all text objects) over the content parts.

        Some producers embed subset fonts whose glyphs have no Unicode value and write the glyph
        numbers (CGTransform) with an empty or partial TextCode: the page shows text that no
        reader can extract (it would take OCR of a rendered page)."""
        glyph_only = objects = 0
        for name in self.names:
            if not re.search(r"content[^/]*\.xml$", name, re.IGNORECASE):
                continue
            root = self.xml(name)
            if root is None:
                continue
            for node in root.iter():
                if _local(node.tag) != "TextObject":
                    continue
                objects += 1
                codes = "".join(code.text or "" for code in node if _local(code.tag) == "TextCode")
                glyphs = [child for child in node if _local(child.tag) == "CGTransform"]
                if glyphs and not codes.strip():
                    glyph_only += 1
        return glyph_only, objects

    def annotations(self, page_ids: list[str | None]) -> dict[int, list[str]]:
        """Page index -> the distinct lines of text in that page's annotations."""
        index_of = {page_id: index for index, page_id in enumerate(page_ids) if page_id}
        found: dict[int, list[str]] = {}
        for location, document in self.documents:
            listing_path = self.resolve(location, _child_text(document, "Annotations"))
            listing = self.xml(listing_path)
            for page in _children(listing, "Page"):
                index = index_of.get((page.get("PageID") or "").strip())
                annotations = self.xml(self.resolve(listing_path, _child_text(page, "FileLoc")))
                if index is None or annotations is None:
                    continue
                lines = found.setdefault(index, [])
                for annotation in annotations.iter():
                    if _local(annotation.tag) != "Annot":
                        continue
                    for text in [_child_text(annotation, "Remark") or "", *_texts(annotation)]:
                        if text and text not in lines:
                            lines.append(text)
        return {index: lines for index, lines in found.items() if lines}

    def attachments(self, depth: int, pages: list[str], warnings: list[str]) -> list[tuple[str, str]]:
        """(label, text) for each attachment that is read; a warning names each one that is not."""
        attached = []
        seen = "".join("".join(pages).split())  # whitespace squeezed out, as producers space digits
        for location, document in self.documents:
            listing_path = self.resolve(location, _child_text(document, "Attachments"))
            for attachment in _children(self.xml(listing_path), "Attachment"):
                file_loc = _child_text(attachment, "FileLoc")
                name = (attachment.get("Name") or "").strip() or posixpath.basename(file_loc or "") or "?"
                part = self.resolve(listing_path, file_loc)
                kind = (attachment.get("Format") or "").strip().lower().lstrip(".") or posixpath.splitext(part or "")[1][1:].lower()
                text, problem = self._attachment_text(part, kind, depth, warnings)
                if problem:
                    warnings.append(f"attachment {name} not read: {problem}")
                    continue
                lines = []
                for line in text.split("\n"):
                    squeezed = "".join(line.split())
                    if squeezed and squeezed not in seen and not _CODE_LINE.fullmatch(squeezed):
                        lines.append(line.strip())
                        seen += squeezed
                if lines:
                    attached.append((f"附件：{name}", "\n".join(lines)))
        return attached

    def _attachment_text(self, part: str | None, kind: str, depth: int, warnings: list[str]) -> tuple[str, str | None]:
        if part is None:
            return "", "its file is missing from the package"
        info = self.names[part]
        if info.file_size > MAX_ATTACHMENT_BYTES:
            return "", f"{info.file_size // 2**20} MB, over the {MAX_ATTACHMENT_BYTES // 2**20} MB limit"
        if kind == "ofd":
            if depth >= ATTACHMENT_DEPTH:
                return "", "an OFD attached inside an attachment"
            try:
                inner = read(self.path, self.zip.read(info), depth=depth + 1)
            except ReadError as exc:
                return "", exc.cause
            warnings.extend(f"attachment: {warning}" for warning in inner.warnings)
            return inner.text.replace(PAGE_BREAK, "\n"), None
        if kind == "xml":
            root = self.xml(part)
            if root is None:
                return "", "not well-formed XML"
            return "\n".join(text.strip() for text in root.itertext() if text.strip()), None
        if kind in _TEXT_ATTACHMENTS:
            from kb.read.text import decode

            try:
                return decode(self.path, self.zip.read(info)).text, None
            except ReadError as exc:
                return "", exc.cause
        return "", f"{kind or 'unknown'} attachments are not read (only OFD, XML and text)"
