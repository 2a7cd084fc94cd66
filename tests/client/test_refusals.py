"""whistle-report refuses a key directory it should not trust, and sends nothing: the directory is
served by a real HTTP server in the test (the attacker's), and no POST may reach it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.client.service import Guardian, Service, directory_document, published, run_client
from whistle import crypto
from whistle.client.state import ServerState, StateStore

GUARDIAN = Guardian(17, "demo.guardian")


def send(service: Service, state, *extra: str, confirm=lambda question: None):
    return run_client("--state", str(state), *extra, "send", service.url, "raise-a-concern",
                      "--answer-in-clear", "site=North", stdin="The fire exit on ward 7 is locked.", confirm=confirm)


def document(**changes) -> bytes:
    return directory_document(**{"guardians": (GUARDIAN,), "first_tier": (17,), **changes})


@pytest.fixture
def organisation() -> crypto.SigningKey:
    return crypto.SigningKey.generate()


def pin(state, service: Service, key: crypto.SigningKey, version: int = 0) -> None:
    StateStore(state).save(ServerState(service.url, key.public_key,
                                       crypto.fingerprint(key.public_key), version))


def test_the_organisations_directory_is_taken_and_the_report_sent(tmp_path, organisation):
    """The control for the refusals below: the same server, a directory signed by the pinned key."""
    with Service(published(document(), organisation)) as service:
        pin(tmp_path, service, organisation)
        sent = send(service, tmp_path)
    assert sent.code == 0, sent.err
    assert [r.path for r in service.posted()] == ["/api/v1/disclosures"]


def test_a_directory_signed_by_another_key_is_refused(tmp_path, organisation):
    impostor = crypto.SigningKey.generate()
    with Service(published(document(), impostor)) as service:
        pin(tmp_path, service, organisation)
        sent = send(service, tmp_path)
    assert sent.code == 1
    assert "not signed by the organisation key this client trusts" in sent.err
    assert crypto.fingerprint(organisation.public_key) in sent.err
    assert service.posted() == []


def test_an_expired_directory_is_refused(tmp_path, organisation):
    with Service(published(document(expires_in=-timedelta(minutes=1)), organisation)) as service:
        pin(tmp_path, service, organisation)
        sent = send(service, tmp_path)
    assert sent.code == 1 and "expired" in sent.err
    assert service.posted() == []


def test_a_directory_older_than_one_seen_is_refused(tmp_path, organisation):
    with Service(published(document(version=4), organisation)) as service:
        pin(tmp_path, service, organisation, version=5)
        sent = send(service, tmp_path)
    assert sent.code == 1 and "older than one already seen (version 5)" in sent.err
    assert service.posted() == []
    assert StateStore(tmp_path).load(service_origin(service)).directory_version == 5


def test_a_key_that_does_not_match_the_fingerprint_given_is_refused_and_not_pinned(tmp_path, organisation):
    impostor = crypto.SigningKey.generate()
    with Service(published(document(), impostor)) as service:
        sent = send(service, tmp_path, "--fingerprint", crypto.fingerprint(organisation.public_key))
    assert sent.code == 1
    assert f"has the fingerprint {crypto.fingerprint(impostor.public_key)}, not the one you gave" in sent.err
    assert service.posted() == []
    assert StateStore(tmp_path).load(service_origin(service)).public_key is None


def test_a_fingerprint_other_than_the_pinned_one_is_refused(tmp_path, organisation):
    other = crypto.SigningKey.generate()
    with Service(published(document(), other)) as service:
        pin(tmp_path, service, organisation)
        sent = send(service, tmp_path, "--fingerprint", crypto.fingerprint(other.public_key))
    assert sent.code == 1 and "not the one pinned" in sent.err
    assert service.posted() == []


def test_a_server_naming_another_fingerprint_than_its_key_has_is_refused(tmp_path, organisation):
    served = published(document(), organisation) | {"key": crypto.fingerprint(crypto.SigningKey.generate().public_key)}
    with Service(served) as service:
        sent = send(service, tmp_path, "--fingerprint", crypto.fingerprint(organisation.public_key))
    assert sent.code == 1 and "names the fingerprint" in sent.err
    assert service.posted() == []


def test_on_first_use_the_fingerprint_is_shown_and_must_be_confirmed(tmp_path, organisation):
    fingerprint = crypto.fingerprint(organisation.public_key)
    with Service(published(document(), organisation)) as service:
        no_terminal = send(service, tmp_path)
        declined = send(service, tmp_path, confirm=lambda question: False)
        assert service.posted() == []
        confirmed = send(service, tmp_path, confirm=lambda question: True)
    assert no_terminal.code == 1 and "give it with --fingerprint" in no_terminal.err
    assert declined.code == 1 and "did not confirm" in declined.err
    assert fingerprint in confirmed.err and confirmed.code == 0, confirmed.err
    pinned = StateStore(tmp_path).load(service_origin(service))
    assert (pinned.public_key, pinned.fingerprint, pinned.directory_version) == (
        organisation.public_key, fingerprint, 3)


def test_once_pinned_the_servers_key_member_is_ignored(tmp_path, organisation):
    """A server that later offers another key (with a directory it signed) gains nothing by it."""
    with Service(published(document(), organisation)) as service:
        assert send(service, tmp_path, "--fingerprint", crypto.fingerprint(organisation.public_key)).code == 0
        impostor = crypto.SigningKey.generate()
        service.directory = published(document(version=9), impostor)
        before = len(service.posted())
        sent = send(service, tmp_path)
    assert sent.code == 1 and "not signed by the organisation key this client trusts" in sent.err
    assert len(service.posted()) == before


def test_the_state_directory_keeps_no_receipt_and_no_report(tmp_path, organisation):
    with Service(published(document(), organisation)) as service:
        sent = send(service, tmp_path, "--fingerprint", crypto.fingerprint(organisation.public_key))
    receipt = next(line.split(":", 1)[1].strip() for line in sent.out.splitlines() if "Your receipt:" in line)
    assert oct(tmp_path.stat().st_mode & 0o777) == "0o700"
    stored = list(tmp_path.iterdir())
    assert len(stored) == 1 and oct(stored[0].stat().st_mode & 0o777) == "0o600"
    text = stored[0].read_text()
    assert receipt not in text and receipt.replace("-", "") not in text
    assert "fire exit" not in text and "North" not in text
    assert set(json.loads(text)) == {"origin", "public_key", "fingerprint", "directory_version"}


def service_origin(service: Service) -> str:
    return service.url
