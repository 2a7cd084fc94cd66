"""The desk's decisions that need no server (tests/e2e/test_desk.py runs it against a real one): what
it refuses to forward, how cookies and redirects are mapped, and the pin it checks directories with.
A request the desk does not refuse is forwarded; here the server's address is a closed port, so a
forwarded request answers 502 "did not answer"."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from tests.e2e.server import free_port
from tests.unit.crypto.test_directory import NOW, ORG, document, published
from whistle import crypto
from whistle.client import trust
from whistle.client.api import Api
from whistle.client.state import ServerState, StateStore
from whistle.desk import proxy
from whistle.desk.pin import Pin


@pytest.fixture
def pin(tmp_path):
    api = Api(f"http://127.0.0.1:{free_port()}")
    store = StateStore(tmp_path)
    store.save(ServerState(api.origin, ORG.public_key, crypto.fingerprint(ORG.public_key), 3))
    return Pin(api, store, ORG.public_key)


def call(desk: proxy.Desk, method: str, path: str, body: bytes = b"", content_type: str = "",
         query: str = "") -> tuple[str, dict, bytes]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "REQUEST_URI": path + (f"?{query}" if query else ""), "CONTENT_TYPE": content_type,
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    said = {}

    def start_response(status, headers):
        said.update(status=status, headers=dict(headers))

    data = b"".join(desk(environ, start_response))
    return said["status"], said["headers"], data


@pytest.mark.parametrize("field", sorted(proxy.PLAINTEXT_FIELDS))
def test_a_form_with_a_plaintext_field_is_refused(pin, field):
    status, headers, body = call(proxy.Desk(pin.api, pin), "POST", "/staff/cases/X/messages",
                                 f"csrf_token=t&{field}=words".encode(), "application/x-www-form-urlencoded")
    assert status.startswith("400")
    assert b"The desk refused to send unencrypted text" in body
    assert headers["Content-Security-Policy"] == proxy.DESK_CSP


def test_a_form_with_an_encrypted_item_is_forwarded(pin):
    status, _, body = call(proxy.Desk(pin.api, pin), "POST", "/staff/cases/X/messages",
                           b"csrf_token=t&item=AQI%3D", "application/x-www-form-urlencoded")
    assert status.startswith("502") and b"did not answer" in body


def test_a_file_in_a_form_a_text_plain_form_and_a_plaintext_query_are_refused(pin):
    desk = proxy.Desk(pin.api, pin)
    multipart = (b'--b\r\nContent-Disposition: form-data; name="item"; filename="rota.txt"\r\n\r\nwords\r\n--b--\r\n')
    assert call(desk, "POST", "/staff/cases/X/files", multipart, "multipart/form-data; boundary=b")[0].startswith("400")
    assert call(desk, "POST", "/staff/cases/X/notes", b"item=x", "text/plain")[0].startswith("400")
    assert call(desk, "GET", "/staff/cases", query="te%78t=words")[0].startswith("400")
    assert call(desk, "PUT", "/staff/cases/X/uploads/1/0", b"\x01\x02", "application/octet-stream")[0] \
        .startswith("502")


def test_static_files_come_from_the_package_and_stay_inside_it(pin):
    desk = proxy.Desk(pin.api, pin)
    status, headers, body = call(desk, "GET", "/static/js/keyring.js")
    assert status.startswith("200") and headers["Content-Type"] == "text/javascript"
    assert body == (proxy.PACKAGE_STATIC / "js" / "keyring.js").read_bytes()
    assert call(desk, "GET", "/static/%2e%2e/desk/proxy.py")[0].startswith("404")
    assert call(desk, "POST", "/static/whistle.css")[0].startswith("405")


def test_cookies_are_renamed_for_loopback_and_back():
    kept = proxy._cookie_to_browser("__Host-whistle_staff=abc; Path=/; Secure; HttpOnly; SameSite=Strict")
    assert kept == "desk-host-whistle_staff=abc; Path=/; HttpOnly; SameSite=Strict"
    assert proxy._cookies_to_server("desk-host-whistle_staff=abc; whistle_csrf=x; grafana_session=y") == \
        "__Host-whistle_staff=abc; whistle_csrf=x"


def test_a_redirect_to_the_server_comes_back_to_the_desk(pin):
    desk = proxy.Desk(pin.api, pin)
    assert desk._local_location(f"{pin.api.origin}/staff/cases?x=1", {}) == "/staff/cases?x=1"
    assert desk._local_location("https://elsewhere.example/", {}) == "https://elsewhere.example/"


def test_the_pin_takes_newer_directories_and_refuses_another_key_and_an_older_version(pin):
    assert pin.check(published(document(version=4)), now=NOW).version == 4
    assert pin.store.load(pin.api.origin).directory_version == 4
    with pytest.raises(trust.Refused, match="not signed by the organisation key the desk trusts"):
        pin.check(published(document(version=5), crypto.SigningKey.generate()), now=NOW)
    with pytest.raises(trust.Refused, match="refused"):
        pin.check(published(document(version=3)), now=NOW)
    with pytest.raises(trust.Refused, match="refused"):
        pin.check(published(document(version=6, expires=NOW - timedelta(days=1))), now=NOW)
    assert pin.store.load(pin.api.origin).directory_version == 4


def test_the_organisation_answer_is_the_pin(pin):
    status, _, body = call(proxy.Desk(pin.api, pin), "GET", "/desk/organisation.json")
    assert status.startswith("200")
    assert json.loads(body)["fingerprint"] == crypto.fingerprint(ORG.public_key)


def test_the_organisation_answer_gives_the_newest_directory_version_seen(pin):
    """The page's scripts refuse a directory older than it (one a case's envelopes carry, which the
    desk does not see as a keys answer): an old directory, still signed, may list replaced keys."""
    pin.check(published(document(version=7)), now=NOW)
    _, _, body = call(proxy.Desk(pin.api, pin), "GET", "/desk/organisation.json")
    assert json.loads(body)["directory_version"] == 7


def test_sign_in_parameters_below_the_floor_or_unreadable_are_refused(pin):
    desk = proxy.Desk(pin.api, pin, lowest_cost=crypto.KdfCost(2, 67108864))

    def refused(answer) -> bool:
        return desk._weak_sign_in_parameters(json.dumps(answer).encode()) is not None

    good = {"scheme": "device/1", "salt": "AAAAAAAAAAAAAAAAAAAAAA==", "opslimit": 2, "memlimit": 67108864}
    assert not refused(good) and not refused({"scheme": "password"})
    assert refused({**good, "opslimit": 1}) and refused({**good, "memlimit": 8192})
    assert refused({**good, "opslimit": "9"}) and refused({**good, "memlimit": None}) and refused([good])
    assert desk._weak_sign_in_parameters(b"not json") is not None


def test_the_desk_answers_only_to_loopback_names(pin):
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 sends Host: evil.example."""
    desk = proxy.Desk(pin.api, pin)

    def status(host: str) -> str:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": proxy.ORGANISATION_PATH, "QUERY_STRING": "",
                   "HTTP_HOST": host, "wsgi.input": io.BytesIO(b"")}
        said = {}
        b"".join(desk(environ, lambda s, headers: said.update(status=s)))
        return said["status"]

    for host in ("127.0.0.1:6544", "localhost:6544", "[::1]:6544", "LOCALHOST", "127.0.0.1"):
        assert status(host).startswith("200"), host
    for host in ("evil.example:6544", "127.0.0.1.evil.example:6544", "evil.example", "[::2]:6544"):
        assert status(host).startswith("421"), host


def test_sign_in_parameters_are_checked_under_any_path():
    """login.js follows any same-origin address that ends in the parameters path: so the desk checks them all."""
    for path in ("/api/v1/staff/sign-in-parameters", "/x/api/v1/staff/sign-in-parameters",
                 "/staff//api/v1/staff/sign-in-parameters/"):
        assert proxy.SIGN_IN_PARAMETERS.fullmatch(path), path
    assert not proxy.SIGN_IN_PARAMETERS.fullmatch("/api/v1/staff/session")
