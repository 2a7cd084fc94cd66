"""What whistle-report sends: a case built to the contract (docs/crypto.md 7.1) that the guardians
the directory lists can read and nothing else in the clear but the routing answers; files in the
chunks of 7.2, a chunk that failed sent again after asking the server which it has."""
from __future__ import annotations

import base64
import io
import json

import pytest

from tests.client.service import Guardian, Service, directory_document, published, run_client
from whistle import crypto
from whistle.client import files

FIRST, COLLEAGUE, SECOND = Guardian(17, "first"), Guardian(18, "colleague"), Guardian(19, "second")
ORGANISATION = crypto.SigningKey.generate()
TEXT = "MARKERtext the fire exit on ward 7 is locked"


def serve() -> Service:
    return Service(published(directory_document(guardians=(FIRST, COLLEAGUE, SECOND), first_tier=(17, 18),
                                                second_tier=(19,)), ORGANISATION))


def send(service: Service, state, *extra: str):
    return run_client("--state", str(state), "--fingerprint", crypto.fingerprint(ORGANISATION.public_key),
                      "send", service.url, "raise-a-concern", "--answer-in-clear", "site=South",
                      "--answer", "where=MARKERanswer", *extra, stdin=TEXT)


def unsealed(guardian: Guardian, value: str) -> crypto.KeyPair:
    return crypto.KeyPair.from_private(crypto.unseal(guardian.keys, base64.b64decode(value)))


def test_the_case_is_sealed_to_the_directorys_guardians_and_only_routing_answers_are_clear(tmp_path):
    with serve() as service:
        sent = send(service, tmp_path, "--leave-out", "colleague", "--identity-mode", "confidential",
                    "--name", "MARKERname")
    assert sent.code == 0, sent.err
    [posted] = [r for r in service.posted() if r.path == "/api/v1/disclosures"]
    assert b"MARKER" not in posted.body and b"ward 7" not in posted.body
    body = json.loads(posted.body)
    assert body["routing_answers"] == {"site": "South"} and body["left_out"] == [18]
    assert [(g["holder"], g.get("account_id")) for g in body["grants"]] == [
        ("reporter", None), ("guardian", 17), ("standby", 19)]
    ref = body["case"]
    case_keys = unsealed(FIRST, body["grants"][1]["sealed_case_key"])
    assert case_keys.public == base64.b64decode(body["case_public_key"])
    team_keys = unsealed(SECOND, body["grants"][2]["sealed_team_key"])
    crypto.check_team_key_mac(case_keys.private, team_keys.public, base64.b64decode(body["team_key_mac"]))
    items = {item["kind"]: base64.b64decode(item["ciphertext"]) for item in body["items"]}
    read = {kind: crypto.decrypt_item(team_keys if kind == "identity" else case_keys, ciphertext, case=ref,
                                      kind=kind, author="reporter") for kind, ciphertext in items.items()}
    assert read["disclosure"].decode() == TEXT
    assert json.loads(read["answers"]) == {"where": "MARKERanswer"}
    assert json.loads(read["identity"]) == {"name": "MARKERname", "mode": "confidential"}
    # The reporter's receipt opens their grant, and their binding vouches for the case key.
    receipt = next(line.split(":", 1)[1].strip() for line in sent.out.splitlines() if "Your receipt:" in line)
    document = crypto.parse_directory(json_document(service))
    reporter = crypto.derive_reporter_keys_v2(receipt, document.receipt_salt, document.receipt_cost)
    assert base64.b64decode(body["reporter"]["lookup_value"]) == reporter.lookup_value
    assert unsealed_by(reporter.keypair, body["grants"][0]["sealed_case_key"]) == case_keys.private
    crypto.check_case_key_binding(reporter.keypair.private, ref, case_keys.public,
                                  base64.b64decode(body["reporter"]["case_key_binding"]))
    assert sent.out.count(receipt) == 1 and "Write it down" in sent.out
    assert "Who will read it: first." in sent.out and "escalated" in sent.out and "second" in sent.out


def json_document(service: Service) -> bytes:
    return service.directory["document"].encode()


def unsealed_by(keypair: crypto.KeyPair, value: str) -> bytes:
    return crypto.unseal(keypair, base64.b64decode(value))


def test_a_taken_reference_or_a_new_directory_builds_the_case_again(tmp_path):
    newer = published(directory_document(version=4, guardians=(FIRST, COLLEAGUE, SECOND), first_tier=(18,),
                                         second_tier=(19,)), ORGANISATION)
    with serve() as service:
        service.conflicts = [("/api/v1/problems/case-ref-taken", None), ("/api/v1/problems/directory-changed", newer)]
        sent = send(service, tmp_path)
    assert sent.code == 0, sent.err
    bodies = [json.loads(r.body) for r in service.posted() if r.path == "/api/v1/disclosures"]
    assert len({body["case"] for body in bodies}) == 3
    assert [body["directory_version"] for body in bodies] == [3, 3, 4]
    assert [g.get("account_id") for g in bodies[-1]["grants"]] == [None, 18, 19], "sealed to the new directory"
    assert "Who will read it: colleague." in sent.out


def test_a_report_that_does_not_fit_the_channel_is_not_sent(tmp_path):
    with serve() as service:
        sent = run_client("--state", str(tmp_path), "--fingerprint", crypto.fingerprint(ORGANISATION.public_key),
                          "send", service.url, "raise-a-concern", "--answer-in-clear", "site=West", "--answer", "when=now",
                          "--leave-out", "nobody", stdin="   ")
    assert sent.code == 1
    for field in ("text", "answers.site", "answers.when", "left_out"):
        assert f"  {field}: " in sent.err
    assert service.posted() == []


@pytest.mark.parametrize("size", [0, 1000, crypto.CHUNK_SIZE, 2 * crypto.CHUNK_SIZE + 5])
def test_files_go_in_the_chunks_of_the_stream(size):
    keys = crypto.KeyPair.generate()
    content = crypto.random_bytes(size)
    chunks = list(files.encrypted_chunks(io.BytesIO(content), size, keys.public, case="AAAAA-BBBBB"))
    assert len(chunks) == files.chunk_count(size)
    assert len(chunks[0]) == 106 and all(len(chunk) == 65553 for chunk in chunks[1:-1])
    assert 273 <= len(chunks[-1]) <= 65553 and sum(map(len, chunks)) == files.ciphertext_size(size)
    assert b"".join(crypto.decrypt_stream(keys, io.BytesIO(b"".join(chunks)), case="AAAAA-BBBBB",
                                          author="reporter")) == content


def test_a_file_that_changes_size_while_read_is_not_uploaded():
    keys = crypto.KeyPair.generate()
    with pytest.raises(files.FileChanged):
        list(files.encrypted_chunks(io.BytesIO(b"x" * 300), 200, keys.public, case="AAAAA-BBBBB"))


def test_a_run_that_failed_is_sent_again_or_found_received(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    content = b"MARKERfile" + crypto.random_bytes(40 * crypto.CHUNK_SIZE)
    upload = tmp_path / "MARKERname.txt"
    upload.write_bytes(content)
    with serve() as service:
        service.fail_chunks = {16: "refused", 32: "lost-answer"}
        sent = send(service, tmp_path / "state", "--file", str(upload))
    assert sent.code == 0, sent.err
    puts = sorted(int(r.path.rsplit("/", 1)[1]) for r in service.requests if r.method == "PUT")
    assert puts == [0, 16, 16, 32], "runs of 16 chunks; 16 is sent again; 32 arrived although its answer was lost"
    assert [len(r.body) for r in service.requests if r.method == "PUT" and r.path.endswith("/0")] == [106 + 15 * 65553]
    assert [r.path for r in service.requests if r.method == "GET"][-1:] == ["/api/v1/reporter/uploads/u1"]
    assert all(b"MARKER" not in r.body for r in service.posted())
    body = json.loads(next(r.body for r in service.posted() if r.path == "/api/v1/disclosures"))
    case_keys = unsealed(FIRST, body["grants"][1]["sealed_case_key"])
    [stored] = service.uploaded
    assert b"".join(crypto.decrypt_stream(case_keys, io.BytesIO(stored["blob"]), case=body["case"],
                                          author="reporter")) == content
    meta = json.loads(crypto.decrypt_item(case_keys, stored["meta"], case=body["case"], kind="attachment-meta",
                                          author="reporter"))
    assert meta == {"name": "MARKERname.txt", "size": len(content), "type": "text/plain"}


def test_chunks_the_server_lost_before_the_end_are_sent_again_from_the_kept_ciphertext(tmp_path):
    content = crypto.random_bytes(20 * crypto.CHUNK_SIZE + 7)
    upload = tmp_path / "rota.pdf"
    upload.write_bytes(content)
    with serve() as service:
        service.lost_at_done = [18]
        sent = send(service, tmp_path / "state", "--file", str(upload))
    assert sent.code == 0, sent.err
    calls = [(r.method, r.path.rsplit("/", 1)[1]) for r in service.requests if "/uploads/u1" in r.path]
    assert calls[-3:] == [("POST", "done"), ("PUT", "16"), ("POST", "done")]
    runs = [r.body for r in service.requests if r.method == "PUT" and r.path.endswith("/16")]
    assert len(runs) == 2 and runs[0] == runs[1], "the same bytes: a stream cannot be encrypted to them again"
    body = json.loads(next(r.body for r in service.posted() if r.path == "/api/v1/disclosures"))
    case_keys = unsealed(FIRST, body["grants"][1]["sealed_case_key"])
    [stored] = service.uploaded
    assert b"".join(crypto.decrypt_stream(case_keys, io.BytesIO(stored["blob"]), case=body["case"],
                                          author="reporter")) == content
