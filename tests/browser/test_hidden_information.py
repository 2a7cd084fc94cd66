"""Hidden information in a reporter's files, in a real Chromium against a real server whose settings
(development.ini) enable the metadata_removal plugin.

With JavaScript the browser encrypts the files, so the server cannot clean them: the page takes the
EXIF out of a photo itself (static/js/hidden-info.js) before encrypting it, says that PDFs and
documents are sent as they are, and puts the outcome in the file's encrypted details, which the
guardian reads. Without JavaScript the server's plugin does it. Either way the guardian is told.
"""
from __future__ import annotations

import io
import secrets

import pytest
from PIL import Image

from tests.e2e.reporter_helpers import call, call_json, guardian_headers

pytestmark = pytest.mark.browser

CHANNEL = "raise-a-concern"


def photo(artist: str, *, orientation: int | None = None) -> bytes:
    """A 40x20 JPEG whose EXIF names an artist and a GPS position (and, if given, an orientation)."""
    exif = Image.Exif()
    exif[0x013B] = artist
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def send_report(page, files, *, untick: bool = False) -> str:
    """Fill the form, attach `files`, send; the case reference from the receipt page."""
    page.goto(f"/report/{CHANNEL}")
    page.fill("#text", f"The rota is falsified {secrets.token_hex(4)}")
    page.check("input[name='answers.ongoing'][value='yes']")
    if untick:
        page.uncheck("#remove_metadata")
    page.set_input_files("#attachments", files)
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")
    return page.locator("[data-slot='case-ref']").inner_text()


def stored(site, ref: str) -> dict[str, tuple[dict, bytes]]:
    """Each file of the case as the guardian's API lists it, and its decrypted bytes."""
    headers = guardian_headers(site)
    status, case = call_json(site.port, "GET", f"/api/v1/cases/{ref}", headers=headers)
    assert status == 200, case
    files = {}
    for entry in case["attachments"]:
        status, _, body = call(site.port, "GET", f"/api/v1/cases/{ref}/attachments/{entry['id']}",
                               headers=headers, source="127.0.0.3")
        assert status == 200
        files[entry["name"]] = (entry, body)
    return files


def test_with_javascript_the_page_cleans_photos_itself_and_says_what_it_does_not_clean(open_page, site, tmp_path):
    artist = f"Artist-{secrets.token_hex(6)}"
    (tmp_path / "turned.jpg").write_bytes(photo(artist, orientation=6))
    (tmp_path / "letter.pdf").write_bytes(b"%PDF-1.4 not really, by " + artist.encode())
    page = open_page(1280, javascript=True)
    page.goto(f"/report/{CHANNEL}")
    page.wait_for_selector("#key-fingerprint")  # the page encrypts on the device
    assert page.locator("#remove_metadata").is_checked()
    assert page.locator("#remove-metadata-help").is_hidden()
    note = page.locator("#remove-metadata-device")
    assert note.is_visible() and "photos (JPEG and PNG)" in note.inner_text()
    assert "PDFs, office documents and other files are sent as they are" in note.inner_text()

    ref = send_report(page, [str(tmp_path / "turned.jpg"), str(tmp_path / "letter.pdf")])
    files = stored(site, ref)
    entry, jpeg = files["turned.jpg"]
    assert artist.encode() not in jpeg
    with Image.open(io.BytesIO(jpeg)) as cleaned:
        assert cleaned.size == (20, 40), "turned upright as the camera meant, before the tag went"
        assert not cleaned.getexif()
    assert entry["metadata_removal"] == "removed"
    assert entry["metadata_removal_words"] == "Hidden information removed (EXIF, document properties)"
    entry, pdf = files["letter.pdf"]
    assert pdf == (tmp_path / "letter.pdf").read_bytes()  # sent as it was
    assert entry["metadata_removal"] == "unsupported"


def test_with_javascript_unticked_the_photo_is_sent_as_it_is(open_page, site, tmp_path):
    original = photo(f"Artist-{secrets.token_hex(6)}")
    (tmp_path / "photo.jpg").write_bytes(original)
    page = open_page(1280, javascript=True)
    page.goto(f"/report/{CHANNEL}")
    page.wait_for_selector("#key-fingerprint")
    ref = send_report(page, [str(tmp_path / "photo.jpg")], untick=True)
    entry, jpeg = stored(site, ref)["photo.jpg"]
    assert jpeg == original and entry["metadata_removal"] is None


def test_without_javascript_the_server_cleans_the_photo(open_page, site, tmp_path):
    artist = f"Artist-{secrets.token_hex(6)}"
    (tmp_path / "photo.jpg").write_bytes(photo(artist))
    page = open_page(390)
    page.goto(f"/report/{CHANNEL}")
    assert page.locator("#remove-metadata-help").is_visible()
    assert page.locator("#remove-metadata-device").is_hidden()
    ref = send_report(page, [str(tmp_path / "photo.jpg")])
    entry, jpeg = stored(site, ref)["photo.jpg"]
    assert artist.encode() not in jpeg and entry["metadata_removal"] == "removed"


def test_with_javascript_the_mailbox_cleans_photos_too(open_page, site, tmp_path):
    artist = f"Artist-{secrets.token_hex(6)}"
    (tmp_path / "later.jpg").write_bytes(photo(artist))
    page = open_page(1280, javascript=True)
    page.goto(f"/report/{CHANNEL}")
    page.wait_for_selector("#key-fingerprint")
    ref = send_report(page, [])
    receipt = page.locator(".receipt-code code").inner_text()
    page.goto("/mailbox")
    page.fill("#receipt", receipt)
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_selector("#what-you-sent")
    assert page.locator("#remove_metadata").is_checked()
    assert "photos (JPEG and PNG)" in page.inner_text("#remove-metadata-device")
    page.set_input_files("#reply-files", [str(tmp_path / "later.jpg")])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_selector("#reply-status:text('Sent.')")
    entry, jpeg = stored(site, ref)["later.jpg"]
    assert artist.encode() not in jpeg and entry["metadata_removal"] == "removed"
