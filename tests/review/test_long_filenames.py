"""Review: a long file name loses its extension.

Names are cut to 255 characters from the start, so a long, descriptive name (phones and
scanners make them) comes back without ".pdf" or ".jpg": the guardian or reporter who downloads
it gets a file their computer does not know how to open.
"""
from __future__ import annotations

from whistle.attachments.services import MAX_NAME_CHARS, clean_name


def test_a_long_name_is_shortened_in_the_middle_and_keeps_its_extension():
    name = "Statement about the night of 3 March, what I saw on ward 7 and who was there " * 5 + ".pdf"
    cleaned = clean_name(name)
    assert len(cleaned) <= MAX_NAME_CHARS
    assert cleaned.endswith(".pdf"), f"...{cleaned[-30:]!r}"
