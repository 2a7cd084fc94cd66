"""Metadata removal: images, PDFs and office documents come back without their hidden information."""
from __future__ import annotations

import io
import zipfile
from typing import Any

import pikepdf
import pytest
from PIL import Image

from whistle.hooks import Hooks
from whistle.hooks.types import CleanResult
from whistle_metadata_removal import clean, images, office

ARTIST = "Jane Informant"
GPS_PLACE = "Ward 7 car park"


def exif_jpeg(*, orientation: int | None = None, size=(40, 20)) -> bytes:
    """A JPEG with EXIF: who made it, a GPS position, a camera, optionally an orientation."""
    picture = Image.new("RGB", size, (200, 30, 30))
    picture.paste((0, 0, 255), (0, 0, 8, 8))  # a marker in the top-left corner, to see which way it stands
    exif = Image.Exif()
    exif[0x013B] = ARTIST  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)
    gps[0x001B] = GPS_PLACE  # GPSProcessingMethod, as a marker string
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", ARTIST)
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta><dc:creator>{ARTIST}</dc:creator></x:xmpmeta>")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def pdf_with_metadata() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [ARTIST]
        xmp["xmp:CreatorTool"] = "SecretWriter 9"
    pdf.docinfo["/Author"] = ARTIST
    pdf.docinfo["/Producer"] = "Department Scanner 3000"
    pdf.pages[0].obj["/Metadata"] = pdf.make_stream(f"<x:xmpmeta>{ARTIST}</x:xmpmeta>".encode())
    annotation = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text,
                                    Rect=[10, 10, 30, 30], Contents="see here", T=ARTIST)
    pdf.pages[0].obj["/Annots"] = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annotation)]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def docx_with_metadata() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("docProps/core.xml",
                         '<?xml version="1.0"?><cp:coreProperties xmlns:cp="x" xmlns:dc="y">'
                         f"<dc:creator>{ARTIST}</dc:creator><cp:lastModifiedBy>{ARTIST}</cp:lastModifiedBy>"
                         "</cp:coreProperties>")
        archive.writestr("docProps/app.xml", "<Properties><Company>Acme Children's Trust</Company></Properties>")
        archive.writestr("word/document.xml", '<w:document xmlns:w="w"><w:body><w:p><w:ins w:id="1" '
                         f'w:author="{ARTIST}" w:date="2026-01-01"><w:r><w:t>The ward is unsafe.</w:t></w:r>'
                         "</w:ins></w:p></w:body></w:document>")
        archive.writestr("word/comments.xml", f'<w:comments xmlns:w="w"><w:comment w:id="0" w:author="{ARTIST}" '
                         "w:initials='JI'><w:p><w:r><w:t>check this</w:t></w:r></w:p></w:comment></w:comments>")
        archive.writestr("word/media/image1.jpeg", exif_jpeg())
    return out.getvalue()


def odt_with_metadata() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("meta.xml", f"<office:document-meta><office:meta><meta:initial-creator>{ARTIST}"
                                     "</meta:initial-creator></office:meta></office:document-meta>",
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", "<office:text><office:annotation><dc:creator>"
                                        f"{ARTIST}</dc:creator><text:p>a note</text:p></office:annotation>"
                                        "<text:p>The ward is unsafe.</text:p></office:text>",
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def unzipped(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_a_jpeg_loses_its_exif_and_gps_but_keeps_its_pixels():
    original = exif_jpeg()
    assert ARTIST.encode() in original and GPS_PLACE.encode() in original
    result = clean("photo.jpg", "image/jpeg", original)
    assert isinstance(result, CleanResult) and result.cleaned is not None
    assert ARTIST.encode() not in result.cleaned and GPS_PLACE.encode() not in result.cleaned
    assert b"PhoneMaker" not in result.cleaned
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.format == "JPEG" and cleaned.size == (40, 20)
        assert not cleaned.getexif() and "icc_profile" not in cleaned.info
        assert cleaned.getpixel((20, 10))[0] > 150  # type: ignore[index]


def test_the_orientation_is_applied_before_the_tag_goes():
    # Orientation 6: the camera was turned; viewers rotate the stored 40x20 picture a quarter turn.
    result = clean("photo.jpg", "image/jpeg", exif_jpeg(orientation=6))
    assert result is not None and result.cleaned is not None
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.size == (20, 40)  # stands as the viewer saw it
        assert 0x0112 not in cleaned.getexif()
        # The blue marker, top-left as stored, is top-right once turned.
        red, _green, blue = cleaned.getpixel((16, 3))  # type: ignore[misc]
        assert blue > 150 and red < 100


def test_a_png_loses_its_text_and_xmp_chunks_and_keeps_transparency():
    result = clean("drawing.png", "image/png", png_with_text())
    assert result is not None and result.cleaned is not None
    assert ARTIST.encode() not in result.cleaned
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.mode == "RGBA" and cleaned.getpixel((0, 0)) == (1, 2, 3, 128)


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF"])
def test_webp_and_tiff_are_cleaned_too(fmt):
    picture = Image.new("RGB", (10, 10), (0, 128, 0))
    exif = Image.Exif()
    exif[0x013B] = ARTIST
    out = io.BytesIO()
    picture.save(out, fmt, exif=exif)
    assert ARTIST.encode() in out.getvalue()
    result = clean(f"picture.{fmt.lower()}", "", out.getvalue())
    assert result is not None and result.cleaned is not None
    assert ARTIST.encode() not in result.cleaned
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.format == fmt


def test_a_pdf_loses_its_info_xmp_and_comment_authors():
    original = pdf_with_metadata()
    assert ARTIST.encode() in original
    result = clean("statement.pdf", "application/pdf", original)
    assert result is not None and result.cleaned is not None
    assert ARTIST.encode() not in result.cleaned
    assert b"Department Scanner" not in result.cleaned and b"SecretWriter" not in result.cleaned
    with pikepdf.open(io.BytesIO(result.cleaned)) as cleaned:
        assert len(cleaned.pages) == 1
        assert "/Metadata" not in cleaned.Root and "/Metadata" not in cleaned.pages[0].obj
        assert not cleaned.docinfo.keys()
        annotation = cleaned.pages[0].obj.Annots[0]
        assert str(annotation.Contents) == "see here" and "/T" not in annotation


def test_a_phone_jpeg_with_a_second_image_inside_keeps_only_its_photo_and_loses_its_exif():
    # Phones store a gain map or depth map as a second image in the JPEG (Pillow reads it as MPO).
    photo = Image.open(io.BytesIO(exif_jpeg()))
    exif = photo.getexif()
    out = io.BytesIO()
    photo.save(out, "MPO", save_all=True, append_images=[Image.new("L", (10, 5), 128)], exif=exif)
    original = out.getvalue()
    with Image.open(io.BytesIO(original)) as opened:
        assert opened.format == "MPO" and getattr(opened, "n_frames", 1) == 2
    assert ARTIST.encode() in original and GPS_PLACE.encode() in original
    result = clean("photo.jpg", "image/jpeg", original)
    assert isinstance(result, CleanResult) and result.cleaned is not None
    assert ARTIST.encode() not in result.cleaned and GPS_PLACE.encode() not in result.cleaned
    with Image.open(io.BytesIO(result.cleaned)) as cleaned:
        assert cleaned.format == "JPEG" and cleaned.size == (40, 20) and not cleaned.getexif()


def test_a_docx_loses_its_properties_and_authors_and_its_pictures_their_exif():
    original = docx_with_metadata()
    assert ARTIST.encode() in unzipped(original)
    result = clean("minutes.docx", "application/octet-stream", original)
    assert result is not None and result.cleaned is not None
    content = unzipped(result.cleaned)
    assert ARTIST.encode() not in content and GPS_PLACE.encode() not in content
    assert b"Acme Children" not in content
    assert b"The ward is unsafe." in content and b"check this" in content  # the document itself stays
    with zipfile.ZipFile(io.BytesIO(result.cleaned)) as archive:
        assert {info.date_time for info in archive.infolist()} == {office.FIXED_DATE}
        assert archive.namelist() == ["[Content_Types].xml", "docProps/core.xml", "docProps/app.xml",
                                      "word/document.xml", "word/comments.xml", "word/media/image1.jpeg"]


def test_an_odt_loses_its_meta_and_annotation_authors_and_keeps_its_mimetype_first_and_stored():
    result = clean("minutes.odt", "application/vnd.oasis.opendocument.text", odt_with_metadata())
    assert result is not None and result.cleaned is not None
    assert ARTIST.encode() not in unzipped(result.cleaned)
    with zipfile.ZipFile(io.BytesIO(result.cleaned)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert b"The ward is unsafe." in archive.read("content.xml")


@pytest.mark.parametrize(("name", "content_type", "data"), [
    ("photo.jpg", "image/jpeg", b"this is not a picture at all"),
    ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 40),  # a JPEG's start and then nothing
    ("statement.pdf", "application/pdf", b"%PDF-1.7\n garbage that is no PDF"),
    ("minutes.docx", "", b"PK\x03\x04 a broken zip"),
    ("notes.odt", "", b"PK\x03\x04" + b"\x00" * 100),
])
def test_a_file_that_claims_a_known_format_but_cannot_be_read_is_reported_unreadable(name, content_type, data):
    assert clean(name, content_type, data) == CleanResult(cleaned=None)


def test_an_animation_is_not_cut_to_its_first_frame():
    frames = [Image.new("RGB", (4, 4), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    assert clean("moving.webp", "image/webp", out.getvalue()) == CleanResult(cleaned=None)


def test_an_image_with_too_many_pixels_is_refused_not_decoded(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    assert clean("photo.jpg", "image/jpeg", exif_jpeg(size=(20, 20))) == CleanResult(cleaned=None)


def test_a_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(office, "MAX_UNPACKED_BYTES", 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"0" * 5000)
    assert clean("big.docx", "", out.getvalue()) == CleanResult(cleaned=None)


@pytest.mark.parametrize(("name", "content_type", "data"), [
    ("notes.txt", "text/plain", b"Author: Jane"),
    ("archive.zip", "application/zip", b"PK\x05\x06" + b"\x00" * 18),
    ("voice.mp3", "audio/mpeg", b"ID3\x03\x00"),
])
def test_other_formats_are_not_its_business(name, content_type, data):
    assert clean(name, content_type, data) is None


def test_called_through_the_hook_only_with_plaintext_allowed():
    arguments: dict[str, Any] = {"name": "photo.jpg", "content_type": "image/jpeg", "data": exif_jpeg()}
    assert Hooks.from_names(["metadata_removal"]).call("whistle_clean_file", **arguments) == []
    allowed = Hooks.from_names(["metadata_removal"], plaintext_allowed=["metadata_removal"])
    [result] = allowed.call("whistle_clean_file", **arguments)
    assert isinstance(result, CleanResult) and ARTIST.encode() not in (result.cleaned or ARTIST.encode())
