"""A file's name as it is kept and shown back: cleaned, and shortened without losing its extension."""
from __future__ import annotations

from whistle.attachments.services import MAX_NAME_CHARS, clean_name


def test_a_long_name_is_shortened_in_the_middle_and_keeps_its_extension():
    name = "Statement about the night of 3 March, what I saw on ward 7 and who was there " * 5 + ".pdf"
    cleaned = clean_name(name)
    assert len(cleaned) <= MAX_NAME_CHARS
    assert cleaned.endswith(".pdf"), f"...{cleaned[-30:]!r}"
    assert cleaned.startswith("Statement about the night") and "…" in cleaned


def test_a_name_that_fits_is_kept_as_it_was():
    assert clean_name("IMG_20240301_221503.jpg") == "IMG_20240301_221503.jpg"
    assert clean_name("x" * (MAX_NAME_CHARS - 4) + ".pdf") == "x" * (MAX_NAME_CHARS - 4) + ".pdf"


def test_a_long_name_without_an_extension_is_shortened_in_the_middle():
    cleaned = clean_name("minutes " * 60)
    assert len(cleaned) <= MAX_NAME_CHARS and "…" in cleaned and cleaned.startswith("minutes")


def test_a_long_tail_after_the_last_dot_is_not_taken_for_an_extension():
    cleaned = clean_name("Dr. " + "very long explanation " * 20)
    assert len(cleaned) <= MAX_NAME_CHARS and cleaned.startswith("Dr. very") and cleaned.endswith("explanation")


def test_directories_and_control_characters_are_dropped():
    assert clean_name("C:\\Users\\me\\Desktop\\rota\x07.xlsx") == "rota.xlsx"
    assert clean_name("\x00\x01") == "attachment"
