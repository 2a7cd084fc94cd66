"""PDF with pikepdf (qpdf): the document's properties, XMP streams, private data and comment authors.

Removed: the trailer's document information dictionary (Title, Author, Subject, Keywords,
Creator, Producer, creation and modification dates), every /Metadata stream (XMP: the document's,
each page's, each image's or font's), /PieceInfo (an application's private data, which can hold
the author's name and the originating file) and /LastModified, and the author (/T) of each
markup annotation (comments, highlights, stamps). The file identifiers (/ID) are made again from
the content, so the cleaned file no longer carries the original's.
Kept: everything that is the document itself (pages, form fields and their names, bookmarks,
embedded files, which are content), and a password's protection.
"""
from __future__ import annotations

import io
import logging

# pikepdf announces itself at import ("logger bridge initialized") on this logger, at INFO: that
# line would land in every whistle command's output and the service's log, where it says nothing.
logging.getLogger("pikepdf._core").setLevel(logging.WARNING)

import pikepdf  # noqa: E402 - after its logger is quietened

# Annotation types whose /T is the name of the person who made them (for a form field's widget, /T
# is the field's name, which the form needs).
MARKUP = {"/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
          "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/FileAttachment",
          "/Sound", "/Redact", "/Popup"}
PRIVATE = ("/Metadata", "/PieceInfo", "/LastModified")


class PdfRefused(Exception):
    """A PDF this cleaner will not rewrite."""


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def clean_pdf(data: bytes) -> bytes:
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError as error:  # damaged, or needs a password to open
        raise PdfRefused(type(error).__name__) from None
    with pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                for key in PRIVATE:
                    if key in obj:
                        del obj[key]
                if obj.get("/Subtype") in MARKUP and obj.get("/Type", pikepdf.Name("/Annot")) == "/Annot" \
                        and "/T" in obj:
                    del obj["/T"]
        out = io.BytesIO()
        try:
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
        except pikepdf.PdfError as error:
            raise PdfRefused(type(error).__name__) from None
    return out.getvalue()
