"""Office documents: OOXML (docx, xlsx, pptx) and ODF (odt, ods, odp), both ZIP files of XML parts.

Each is written again entry by entry, in the same order and with the same compression (ODF needs
its "mimetype" entry first and stored), with these changes:

- the properties parts are replaced by empty ones: OOXML's docProps/core.xml (creator, last
  modified by, dates, title, subject, keywords, revision), docProps/app.xml (company, manager,
  template, application and version, editing time) and docProps/custom.xml (any custom
  property); ODF's meta.xml (initial creator, creator, dates, editing time and cycles, generator,
  user-defined fields);
- comment and tracked-change authors are blanked: Word's w:author and w:initials, and its list of
  people (word/people.xml); Excel's comment <author> list; PowerPoint's comment authors
  (ppt/commentAuthors.xml); ODF's dc:creator in content.xml and styles.xml (annotations, changes);
- pictures inside (word/media/, xl/media/, ppt/media/, Pictures/) are cleaned as images, and kept
  as they are if they cannot be;
- every entry gets the same date (1980-01-01), since the ZIP's own dates tell when it was saved.

The XML is rewritten with narrow patterns on attributes and elements, not parsed, so no entity or
external reference in a reporter's file is ever resolved.
"""
from __future__ import annotations

import io
import re
import zipfile

from whistle_metadata_removal import images

EXTENSIONS = (".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".pptx", ".pptm", ".potx",
              ".odt", ".ods", ".odp", ".odg", ".ott", ".ots", ".otp")
CONTENT_TYPES = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
)
# A document this large, unpacked, is refused rather than unpacked into memory (a ZIP bomb).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000
FIXED_DATE = (1980, 1, 1, 0, 0, 0)

EMPTY_CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
              b' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
              b' xmlns:dcmitype="http://purl.org/dc/dcmitype/"'
              b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>')
EMPTY_APP = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
             b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>')
EMPTY_CUSTOM = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
                b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>')
EMPTY_PEOPLE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"/>')
EMPTY_ODF_META = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                  b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
                  b' office:version="1.2"><office:meta/></office:document-meta>')

REPLACED = {"docProps/core.xml": EMPTY_CORE, "docProps/app.xml": EMPTY_APP, "docProps/custom.xml": EMPTY_CUSTOM,
            "word/people.xml": EMPTY_PEOPLE, "meta.xml": EMPTY_ODF_META}

_WORD_AUTHOR = re.compile(rb'(\sw:(?:author|initials)=)(?:"[^"]*"|\'[^\']*\')')
_EXCEL_AUTHOR = re.compile(rb"(<(?:\w+:)?author>)[^<]*(</(?:\w+:)?author>)")
_PPT_AUTHOR = re.compile(rb'(\s(?:name|initials)=)(?:"[^"]*"|\'[^\']*\')')
_ODF_CREATOR = re.compile(rb"(<dc:creator>)[^<]*(</dc:creator>)")
_MEDIA = re.compile(r"^(?:word/media/|xl/media/|ppt/media/|Pictures/)[^/]+\.(?:jpe?g|png|tiff?|webp)$", re.IGNORECASE)


class OfficeRefused(Exception):
    """A document this cleaner will not rewrite (too large unpacked, encrypted entries, not OOXML or ODF)."""


def looks_like_office(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names or "mimetype" in names


def _blank_word_authors(xml: bytes) -> bytes:
    return _WORD_AUTHOR.sub(rb'\1""', xml)


def _rewrite(name: str, content: bytes) -> bytes:
    if name in REPLACED:
        return REPLACED[name]
    if name.startswith("word/") and name.endswith(".xml"):
        return _blank_word_authors(content)
    if re.fullmatch(r"xl/comments\d*\.xml", name):
        return _EXCEL_AUTHOR.sub(rb"\1\2", content)
    if name == "ppt/commentAuthors.xml":
        return _PPT_AUTHOR.sub(rb'\1""', content)
    if name in ("content.xml", "styles.xml"):
        return _ODF_CREATOR.sub(rb"\1\2", content)
    if _MEDIA.match(name):
        try:
            return images.clean_image(content)
        except Exception:  # noqa: BLE001 - a picture that cannot be cleaned stays as it was, the document still is
            return content
    return content


def clean_office(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        names = {entry.filename for entry in entries}
        if "[Content_Types].xml" not in names and "mimetype" not in names:
            raise OfficeRefused("not OOXML or ODF")
        if len(entries) > MAX_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise OfficeRefused("too large unpacked")
        if any(entry.flag_bits & 0x1 for entry in entries):
            raise OfficeRefused("encrypted entries")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as cleaned:
            for entry in entries:
                content = archive.read(entry)
                info = zipfile.ZipInfo(entry.filename, date_time=FIXED_DATE)
                info.compress_type = entry.compress_type
                info.external_attr = entry.external_attr
                cleaned.writestr(info, content if entry.is_dir() else _rewrite(entry.filename, content))
    return out.getvalue()
