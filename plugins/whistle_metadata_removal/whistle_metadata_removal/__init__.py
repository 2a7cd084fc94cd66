"""Metadata removal: hidden information taken out of a reporter's file before it is encrypted.

A photo can say where and when it was taken and with which phone; a document can say who wrote
it, on whose computer, for which company. A reporter who sends one may be named by it. This
plugin implements `whistle_clean_file`, which core calls on the no-JavaScript path (where the
server sees the file) when the reporter leaves "Remove hidden information" ticked:

- images (JPEG, PNG, WebP, TIFF), with Pillow: the pixels are decoded and encoded again into a
  new file, which carries no EXIF (GPS position, camera, times, owner), XMP, IPTC, ICC profile,
  comments or text chunks. The EXIF orientation is applied to the pixels first, so the picture
  still stands the right way up.
- PDF, with pikepdf: the document information dictionary (Author, Creator, Producer, dates…),
  every XMP metadata stream (the document's, each page's, each image's), application private data
  (PieceInfo), the authors of comments, and the file identifiers, which are made again from the
  content so that they no longer match the original's.
- office documents, with the standard library's zipfile: OOXML (docx, xlsx, pptx) and ODF (odt,
  ods, odp) are ZIP files; their properties parts (docProps/core.xml, app.xml, custom.xml;
  meta.xml) are replaced by empty ones, comment and tracked-change authors are blanked, pictures
  inside are cleaned as images, and every entry gets the same date.

What a file says in its visible content (a name in the text, a logo, a face, a street sign) is
not hidden information and stays. The README lists what is not removed.

Everything happens in memory: the file is given as bytes and the cleaned file returned as bytes,
never written to disk. A file that looks like one of these formats but cannot be read (a damaged
PDF, a text file named .jpg) gives CleanResult(cleaned=None): core keeps it as sent and tells the
guardian that its hidden information could not be removed. Any other format gives None.
"""
from __future__ import annotations

from collections.abc import Callable

from whistle import hookimpl
from whistle.hooks.types import CleanResult
from whistle_metadata_removal import images, office, pdf

Cleaner = Callable[[bytes], bytes]

# (family, magic-number test, file name extensions, content types): a file is of a family if its
# first bytes say so, or, for a file that claims a family by its name or type but whose bytes do not
# match (a fake or damaged file), it is that family's and will fail to read.
FAMILIES: list[tuple[str, Callable[[bytes], bool], tuple[str, ...], tuple[str, ...], Cleaner]] = [
    ("image", images.looks_like_image, images.EXTENSIONS, images.CONTENT_TYPES, images.clean_image),
    ("pdf", pdf.looks_like_pdf, (".pdf",), ("application/pdf",), pdf.clean_pdf),
    ("office", office.looks_like_office, office.EXTENSIONS, office.CONTENT_TYPES, office.clean_office),
]


def _family(name: str, content_type: str, data: bytes):
    for family in FAMILIES:
        if family[1](data):
            return family
    lowered, kind = name.lower(), content_type.split(";", 1)[0].strip().lower()
    for family in FAMILIES:
        if lowered.endswith(family[2]) or kind in family[3]:
            return family
    return None


def clean(name: str, content_type: str, data: bytes) -> CleanResult | None:
    """The file without its hidden information; CleanResult(None) if it is of a kind this plugin
    knows but cannot be read; None for any other kind."""
    family = _family(name, content_type, data)
    if family is None:
        return None
    cleaner = family[4]
    try:
        return CleanResult(cleaned=cleaner(data))
    except Exception:  # noqa: BLE001 - whatever a damaged or hostile file makes a parser raise, it is kept as sent
        return CleanResult(cleaned=None)


@hookimpl
def whistle_clean_file(name: str, content_type: str, data: bytes) -> CleanResult | None:
    return clean(name, content_type, data)


__all__ = ["clean", "whistle_clean_file"]
