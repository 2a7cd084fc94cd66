"""Removing hidden information from a reporter's files on the no-JavaScript path (whistle_clean_file).

Through the real forms (the report form and the mailbox), with the bundled metadata_removal plugin:
a photo with EXIF (GPS, artist), a PDF with an author and XMP and a Word document with a creator are
stored without them; a file that only claims a format is kept as sent; the guardian is told per file,
on the case page, in the API and in the device mode's envelopes; unticked, nothing is touched.
"""
from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select
from webtest import Upload

from tests.factories import api_login, html_login, make_channel, make_staff
from tests.functional.reporters.helpers import come_back, open_channel, receipt_of, submit_disclosure
from whistle.attachments import services as attachments
from whistle.cases.models import Attachment, Case

ARTIST = "Jane Informant"
PLACE = "Ward 7 car park"
FAKE_JPEG = b"this is a letter, not a photo: signed " + ARTIST.encode()
PLUGIN = ["metadata_removal"]


def photo() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = ARTIST  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)
    gps[0x001B] = PLACE  # GPSProcessingMethod
    out = io.BytesIO()
    Image.new("RGB", (32, 16), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def statement() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [ARTIST]
    pdf.docinfo["/Author"] = ARTIST
    pdf.docinfo["/Producer"] = "Department Scanner 3000"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def minutes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("docProps/core.xml", '<cp:coreProperties xmlns:cp="c" xmlns:dc="d">'
                                              f"<dc:creator>{ARTIST}</dc:creator></cp:coreProperties>")
        archive.writestr("word/document.xml", "<w:document><w:t>The ward is unsafe.</w:t></w:document>")
    return out.getvalue()


def unpacked(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


FILES = [
    ("photo.jpg", photo(), "image/jpeg"),
    ("statement.pdf", statement(), "application/pdf"),
    ("minutes.docx", minutes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("not-a-photo.jpg", FAKE_JPEG, "image/jpeg"),
    ("notes.txt", b"written by " + ARTIST.encode(), "text/plain"),
]


@pytest.fixture
def guardian(dbsession, settings, clock):
    make_channel(dbsession, "staff")
    return make_staff(dbsession, settings, clock, "guardian", channels=["staff"])


@pytest.fixture
def reporter(plugin_app, guardian):
    """A browser without JavaScript on a service with the plugin enabled and allowed the files."""
    return plugin_app(PLUGIN, plaintext=PLUGIN)


def guardian_view(plugin_app, guardian, clock, dbsession) -> tuple:
    """The guardian's API headers and browser, on another app of the same service, and the case."""
    browser = plugin_app(PLUGIN, plaintext=PLUGIN)
    case = dbsession.scalars(select(Case)).one()
    return api_login(browser, guardian, clock), browser, case


def stored_files(browser, headers, case) -> dict[str, tuple[dict, bytes]]:
    """Each file of the case as the API lists it, and its bytes as the guardian downloads them
    (decrypted from what was stored)."""
    listed = browser.get(f"/api/v1/cases/{case.ref}", headers=headers).json["attachments"]
    return {entry["name"]: (entry, browser.get(f"/api/v1/cases/{case.ref}/attachments/{entry['id']}",
                                               headers=headers).body) for entry in listed}


def test_the_form_offers_the_box_ticked_only_while_the_plugin_may_read_files(testapp, plugin_app, guardian):
    assert "remove_metadata" not in open_channel(testapp, "Channel staff").forms[0].fields
    not_allowed = plugin_app(PLUGIN)  # enabled, but not allowed plaintext: it could not clean anything
    assert "remove_metadata" not in open_channel(not_allowed, "Channel staff").forms[0].fields
    page = open_channel(plugin_app(PLUGIN, plaintext=PLUGIN), "Channel staff")
    form = page.forms[0]
    assert form["remove_metadata"].checked
    box = page.html.find(id="field-remove-metadata")
    assert "Remove hidden information (like location and author) from my files" in box.text
    # Before the files: the server reads the form in order, and must know the choice when they arrive.
    names = [field.get("name") for field in page.html.find("form").find_all("input")]
    assert names.index("remove_metadata") < names.index("attachments")


def test_files_sent_through_the_form_are_stored_without_their_hidden_information(
        reporter, plugin_app, guardian, clock, dbsession):
    page = submit_disclosure(reporter, files=FILES)
    assert receipt_of(page)
    headers, browser, case = guardian_view(plugin_app, guardian, clock, dbsession)
    files = stored_files(browser, headers, case)

    entry, jpeg = files["photo.jpg"]
    assert ARTIST.encode() not in jpeg and PLACE.encode() not in jpeg
    with Image.open(io.BytesIO(jpeg)) as picture:
        assert picture.size == (32, 16) and not picture.getexif()
    assert entry["metadata_removal"] == "removed"
    assert entry["metadata_removal_words"] == "Hidden information removed (EXIF, document properties)"

    entry, pdf = files["statement.pdf"]
    assert ARTIST.encode() not in pdf and b"Department Scanner" not in pdf
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert len(opened.pages) == 1
    assert entry["metadata_removal"] == "removed"

    entry, docx = files["minutes.docx"]
    assert ARTIST.encode() not in unpacked(docx) and b"The ward is unsafe." in unpacked(docx)
    assert entry["metadata_removal"] == "removed"

    # A file that is not what its name says is kept exactly as sent, and the guardian told.
    entry, fake = files["not-a-photo.jpg"]
    assert fake == FAKE_JPEG and entry["metadata_removal"] == "unreadable"
    entry, text = files["notes.txt"]
    assert text == FILES[4][1] and entry["metadata_removal"] == "unsupported"
    assert entry["metadata_removal_words"] == "Could not remove hidden information: format not supported"

    # The case page says it per file; the database keeps only the outcome.
    html_login(browser, guardian, clock)
    listed = browser.get(f"/staff/cases/{case.ref}").html.find(id="files-from-reporter")
    items = {item.find("a").text: item.text for item in listed.find_all("li")}
    assert "Hidden information removed (EXIF, document properties)." in items["photo.jpg"]
    assert "Could not remove hidden information: the file could not be read" in items["not-a-photo.jpg"]
    assert "Could not remove hidden information: format not supported." in items["notes.txt"]
    assert sorted(dbsession.scalars(select(Attachment.metadata_removal))) == [
        "removed", "removed", "removed", "unreadable", "unsupported"]

    # A guardian's device reads the same from the envelopes (device mode's case page).
    envelopes = browser.get(f"/api/v1/cases/{case.ref}/envelopes", headers=headers).json
    assert sorted(file["metadata_removal_words"] for file in envelopes["attachments"]).count(
        "Hidden information removed (EXIF, document properties)") == 3


def test_unticked_the_files_are_stored_as_sent_and_nothing_is_said(reporter, plugin_app, guardian, clock, dbsession):
    form = open_channel(reporter, "Channel staff").forms[0]
    form["text"] = "The fire exit on ward 7 is chained shut."
    form["answers.ongoing"] = "yes"
    form["remove_metadata"] = False
    form["attachments"] = [Upload(*FILES[0]), Upload(*FILES[1])]
    form.submit(status=303)
    headers, browser, case = guardian_view(plugin_app, guardian, clock, dbsession)
    files = stored_files(browser, headers, case)
    assert files["photo.jpg"][1] == FILES[0][1] and files["statement.pdf"][1] == FILES[1][1]
    assert {entry["metadata_removal"] for entry, _ in files.values()} == {None}
    html_login(browser, guardian, clock)
    assert "hidden information" not in browser.get(f"/staff/cases/{case.ref}").html.find(id="files").text


def test_a_file_over_the_cleaning_size_streams_in_as_sent(reporter, plugin_app, guardian, clock, dbsession,
                                                           monkeypatch):
    monkeypatch.setattr(attachments, "MAX_CLEAN_BYTES", 100)
    submit_disclosure(reporter, files=[FILES[0]])
    headers, browser, case = guardian_view(plugin_app, guardian, clock, dbsession)
    entry, jpeg = stored_files(browser, headers, case)["photo.jpg"]
    assert jpeg == FILES[0][1] and entry["metadata_removal"] == "too_large"
    assert "too large" in entry["metadata_removal_words"]


def test_files_added_from_the_mailbox_are_cleaned_too(reporter, plugin_app, guardian, clock, dbsession):
    receipt = receipt_of(submit_disclosure(reporter))
    form = come_back(reporter, receipt).forms["message-form"]
    assert form["remove_metadata"].checked
    form["text"] = "A photo of the chained door."
    form["files"] = [Upload(*FILES[0])]
    form.submit(status=303)
    headers, browser, case = guardian_view(plugin_app, guardian, clock, dbsession)
    entry, jpeg = stored_files(browser, headers, case)["photo.jpg"]
    assert ARTIST.encode() not in jpeg and PLACE.encode() not in jpeg
    assert entry["metadata_removal"] == "removed"


@pytest.mark.parametrize("ticked", [True, False])
def test_a_form_given_back_keeps_the_box_as_the_reporter_left_it(reporter, ticked):
    form = open_channel(reporter, "Channel staff").forms[0]
    form["text"] = ""  # required: the form comes back
    form["answers.ongoing"] = "yes"
    form["remove_metadata"] = ticked
    form["attachments"] = [Upload(*FILES[0])]
    again = form.submit(status=422).forms[0]
    assert again["remove_metadata"].checked is ticked
