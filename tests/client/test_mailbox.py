"""Coming back with the receipt: whistle-report reads, replies, adds and downloads files, and refuses
a case whose keys were changed on the server (a grant sealed with another case key, a team key the
MAC does not vouch for) or a file cut short, before it sends or saves anything."""
from __future__ import annotations

import base64
import re

import pytest

from tests.client.service import Guardian, Service, directory_document, published, run_client
from whistle import crypto

GUARDIAN = Guardian(17, "demo.guardian")
ORGANISATION = crypto.SigningKey.generate()
FINGERPRINT = crypto.fingerprint(ORGANISATION.public_key)


@pytest.fixture
def service():
    with Service(published(directory_document(guardians=(GUARDIAN,), first_tier=(17,)), ORGANISATION)) as service:
        yield service


def client(service: Service, state, *args: str, stdin: str = ""):
    return run_client("--state", str(state), "--fingerprint", FINGERPRINT, args[0], service.url, *args[1:],
                      stdin=stdin)


@pytest.fixture
def sent(service, tmp_path):
    """A report with a file; its receipt."""
    upload = tmp_path / "statement.txt"
    upload.write_bytes(b"what I saw " * 10000)
    result = client(service, tmp_path / "state", "send", "raise-a-concern", "--answer-in-clear", "site=North",
                    "--answer", "where=Ward 7", "--file", str(upload), stdin="The fire exit is locked.")
    assert result.code == 0, result.err
    return re.search(r"Your receipt:\s+(\S+)", result.out).group(1)


def test_read_reply_and_download(service, tmp_path, sent):
    state = tmp_path / "state"
    read = client(service, state, "read", stdin=sent + "\n")
    assert read.code == 0, read.err
    assert "The fire exit is locked." in read.out and "where: Ward 7" in read.out
    assert re.search(r"^  1  statement\.txt  110000 bytes, from you$", read.out, flags=re.MULTILINE)
    replied = client(service, state, "reply", stdin=f"{sent}\nIt happened again today.\n")
    assert replied.code == 0, replied.err
    assert "It happened again today." in client(service, state, "read", stdin=sent + "\n").out
    out = tmp_path / "copy.txt"
    downloaded = client(service, state, "download", "1", "--out", str(out), stdin=sent + "\n")
    assert downloaded.code == 0, downloaded.err
    assert out.read_bytes() == (tmp_path / "statement.txt").read_bytes()


def test_an_unknown_receipt_is_told_so(service, tmp_path, sent):
    other = crypto.new_receipt_v2()
    read = client(service, tmp_path / "state", "read", stdin=other + "\n")
    assert read.code == 1 and "does not know that receipt" in read.err


def test_a_grant_sealed_with_another_case_key_is_refused_and_nothing_sent(service, tmp_path, sent):
    """Someone who can write the server's database seals a case key of their own to the reporter's
    public key and puts its public key (and a team key with a MAC that matches it) on the case: every
    check but the binding made with the reporter's own key would pass."""
    case = service.case
    assert case is not None
    reporter_public = base64.b64decode(case["reporter"]["public_key"])
    forged, team = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    case["grants"][0]["sealed_case_key"] = base64.b64encode(crypto.seal(reporter_public, forged.private)).decode()
    case["case_public_key"] = base64.b64encode(forged.public).decode()
    case["team_public_key"] = base64.b64encode(team.public).decode()
    case["team_key_mac"] = base64.b64encode(crypto.team_key_mac(forged.private, team.public)).decode()
    before = len(service.posted())
    replied = client(service, tmp_path / "state", "reply", stdin=f"{sent}\nMARKER a message\n")
    assert replied.code == 1 and "do not match the ones your receipt opened" in replied.err
    assert [r.path for r in service.posted()[before:]] == ["/api/v1/reporter/session"]
    last = service.requests[-1]
    assert (last.method, last.path) == ("DELETE", "/api/v1/reporter/session"), "the session is ended at once"


def test_a_team_key_the_mac_does_not_vouch_for_is_refused(service, tmp_path, sent):
    assert service.case is not None
    service.case["team_public_key"] = base64.b64encode(crypto.KeyPair.generate().public).decode()
    read = client(service, tmp_path / "state", "read", stdin=sent + "\n")
    assert read.code == 1 and "do not match" in read.err


def test_a_download_cut_short_leaves_no_file(service, tmp_path, sent):
    service.blob_cut = 17
    out = tmp_path / "copy.txt"
    downloaded = client(service, tmp_path / "state", "download", "1", "--out", str(out), stdin=sent + "\n")
    assert downloaded.code == 1 and "did not verify" in downloaded.err
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy")] == []


def test_what_others_wrote_is_shown_but_never_obeyed_by_the_terminal(service, tmp_path, sent):
    """Anyone with the case's public key can write an item; an escape sequence in it is shown, not run."""
    assert service.case is not None
    case_public = base64.b64decode(service.case["case_public_key"])
    item = crypto.encrypt_item(case_public, b"Thank you.\x1b]0;owned\x07\x1b[2J Call us.", case=service.case["case"],
                               kind="message", author="guardian:17")
    service.items.append({"id": 99, "kind": "message", "author": "guardian:17", "version": 2, "at": "2026-12-06",
                          "ciphertext": base64.b64encode(item).decode()})
    read = client(service, tmp_path / "state", "read", stdin=sent + "\n")
    assert read.code == 0, read.err
    assert "The people handling your report:\n      Thank you.\ufffd]0;owned\ufffd\ufffd[2J Call us." in read.out
    assert "\x1b" not in read.out and "\x07" not in read.out


def test_a_message_or_file_erased_by_the_people_handling_it_is_shown_as_erased(service, tmp_path, sent):
    state = tmp_path / "state"
    client(service, state, "reply", stdin=f"{sent}\nSorry, wrong case.\n")
    words = "Erased on 5 December 2026: Sent in error."
    for item in service.items:
        if item["kind"] in ("message", "attachment-meta"):
            item.update(ciphertext=None, author=None, version=None, erased_on="2026-12-05", erased_words=words)
    read = client(service, state, "read", stdin=sent + "\n")
    assert read.code == 0, read.err
    assert f"A message. {words}" in read.out and f"A file. {words}" in read.out
    assert "Sorry, wrong case." not in read.out and "did not verify" not in read.out
