"""Images (JPEG, PNG, WebP, TIFF) with Pillow: decode the pixels, encode them into a new file.

A new image made from the pixels alone has none of the original's `info` (EXIF, XMP, IPTC, ICC
profile, comments, PNG text chunks), and the new file is written with no metadata given, so none
is carried over. Before that, the EXIF orientation is applied to the pixels, so the picture is not
turned on its side once the tag saying how to turn it is gone.
"""
from __future__ import annotations

import io

from PIL import Image, ImageOps

EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff")
CONTENT_TYPES = ("image/jpeg", "image/pjpeg", "image/png", "image/webp", "image/tiff")
FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "TIFF"}
# Larger than nearly every phone's photo, small enough that cleaning one stays bounded: decoding,
# turning upright and copying the pixels hold about three copies at once, 4 bytes a pixel at most
# (about 300 MB at this bound). Pillow's own guard refuses about 179 million pixels at open.
MAX_PIXELS = 25_000_000

_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")


class ImageRefused(Exception):
    """An image this cleaner will not re-encode (too many pixels, several frames, an unknown mode)."""


def looks_like_image(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image with the same pixels (and palette and transparency, which are how it looks)
    and nothing else."""
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    if image.mode in ("P", "PA"):
        palette = image.getpalette()
        if palette is not None:
            fresh.putpalette(palette)
    if "transparency" in image.info and isinstance(image.info["transparency"], (int, bytes, tuple)):
        fresh.info["transparency"] = image.info["transparency"]
    return fresh


def clean_image(data: bytes) -> bytes:
    # Only the header is read at open: the size is checked before any pixel is decoded.
    with Image.open(io.BytesIO(data)) as image:
        if image.format not in FORMATS:
            raise ImageRefused(f"format {image.format}")
        if image.width * image.height > MAX_PIXELS:
            raise ImageRefused("too many pixels")
        if image.format != "MPO" and getattr(image, "n_frames", 1) > 1:
            # An animation or a multi-page TIFF: re-encoding only the first frame would lose the rest.
            raise ImageRefused("several frames")
        # A phone's JPEG with a second image inside (a gain map or depth map: Pillow opens it as
        # MPO) is the photo in its first frame; the others are not the picture, and they carry
        # metadata of their own, so only the first is kept.
        fmt = "JPEG" if image.format == "MPO" else image.format
        image.load()
        upright = ImageOps.exif_transpose(image)
        fresh = _pixels_only(upright)
    out = io.BytesIO()
    if fmt == "JPEG":
        # Encoded again, so some quality is lost; 95 keeps it close to the original.
        fresh.save(out, "JPEG", quality=95)
    elif fmt == "PNG":
        fresh.save(out, "PNG", optimize=False)
    elif fmt == "WEBP":
        fresh.save(out, "WEBP", lossless=False, quality=95)
    else:
        fresh.save(out, "TIFF", compression="tiff_lzw")
    return out.getvalue()
