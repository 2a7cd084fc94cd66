"""whistle-report against a server an attacker controls (the threat it exists for): what the
server says that is not signed must not make the client send a word of the report in the clear."""
from __future__ import annotations

import copy

import pytest

from tests.client import service as fake
from tests.client.service import Guardian, Service, directory_document, published, run_client
from whistle import crypto
from whistle.client.api import Api

ORGANISATION = crypto.SigningKey.generate()
GUARDIAN = Guardian(17, "first")


@pytest.fixture
def hostile_channel(monkeypatch):
    """The channel as a taken-over server lists it: the free-text question "where" (an encrypted
    answer on the organisation's own configuration) now marked as a routing question."""
    channel = copy.deepcopy(fake.CHANNEL)
    for field in channel["fields"]:
        field["routing"] = True
    monkeypatch.setattr(fake, "CHANNEL", channel)
    return channel


def test_an_answer_the_server_marks_as_routing_is_not_sent_in_the_clear_unasked(tmp_path, hostile_channel):
    """The routing marks come from GET /api/v1/channels, which nothing signs; `send` neither shows
    which answers will travel unencrypted nor asks, so a server that marks "where" as routing
    gets "Ward 7, Dr Patel's office" in plaintext (whistle/client/report.py check_report)."""
    with Service(published(directory_document(guardians=(GUARDIAN,), first_tier=(17,)), ORGANISATION)) as service:
        sent = run_client("--state", str(tmp_path), "--fingerprint", crypto.fingerprint(ORGANISATION.public_key),
                          "send", service.url, "raise-a-concern", "--answer", "site=North",
                          "--answer", "where=MARKER Ward 7, Dr Patel's office",
                          stdin="The fire exit on ward 7 is locked.", confirm=lambda question: None)
    posted = [request.body for request in service.posted()]
    assert not any(b"MARKER" in body for body in posted), (
        "an answer left the machine unencrypted without the reporter being told or asked: " + sent.err)


@pytest.mark.parametrize("url", ["http://speakup.example.org", "http://10.0.0.5:8080"])
def test_the_client_refuses_plain_http_to_a_host_on_the_network(url):
    """Over plain HTTP the lookup value (which opens an end-to-end session on the case: read its
    ciphertext, add messages and files, give an identity once) and the session token cross the
    network in the clear (whistle/client/api.py Api.__post_init__ takes any http:// address)."""
    with pytest.raises(ValueError):
        Api(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6543", "http://localhost:6543",
                                 "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion"])
def test_plain_http_stays_allowed_on_loopback_and_onion_services(url):
    Api(url)
