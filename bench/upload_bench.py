"""A 1 GiB file uploaded in chunks over HTTP, against raw secretstream in the same run.

    .venv/bin/python bench/upload_bench.py                  # ~1-2 min: 1 GiB to the local and the database store
    .venv/bin/python bench/upload_bench.py --mib 64         # a smoke run
    .venv/bin/python bench/upload_bench.py --stores database --db-url postgresql+psycopg://...   # PostgreSQL

For each blob store, a throwaway deployment (http_bench.py's: real migrations, one channel with a
guardian, the test Argon2id cost) is served by a real waitress child process with production.ini's
[server:main] settings. A reporter sends a disclosure, signs in with the receipt, and uploads the
file the way reporter.js does (docs/attachments.md 6): the stream envelope made on the client as
the file is read (whistle.crypto.StreamEncryptor, the file cut from one reused random MiB, never
whole in memory), sent in runs of 16 chunks (PUT /api/v1/reporter/uploads/{id}/{index}) with
--inflight requests on their way, then `done` with the attachment-meta item. Times run from the
upload's start to the answer of `done`, which reads the staged file through once against the
chunks' digests and publishes it.

Baseline, in the same run: crypto_secretstream_xchacha20poly1305_push of the same number of bytes,
64 KiB at a time, in memory (what crypto_bench.py times). `ratio` = baseline time / row time
(1.00x: as fast as encrypting alone). The server's peak resident memory (VmHWM in
/proc/PID/status) is read after a warm-up request and again after the upload: the growth is what
the upload cost it.

--db-url: a scratch database emptied for each store (its schema dropped): PostgreSQL's throughput.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import _common as c  # noqa: E402
import http_bench as hb  # noqa: E402
from flood_bench import proc_status  # noqa: E402
from nacl import bindings as b  # noqa: E402

from whistle import crypto  # noqa: E402

MIB = 1 << 20
RUN_CHUNKS = 16  # what reporter.js sends in one PUT (MAX_RUN_CHUNKS)


def _pieces(total: int, block: bytes):
    """`total` bytes as 64 KiB pieces cut from one reused random block."""
    view = memoryview(block)
    sent = 0
    while sent < total:
        size = min(crypto.CHUNK_SIZE, total - sent)
        start = sent % len(block)
        if start + size > len(block):
            start = 0
        yield bytes(view[start:start + size])
        sent += size


def raw_secretstream(total: int, block: bytes) -> float:
    key = b.crypto_secretstream_xchacha20poly1305_keygen()
    start = time.perf_counter()
    state = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    remaining = total
    for piece in _pieces(total, block):
        remaining -= len(piece)
        tag = (b.crypto_secretstream_xchacha20poly1305_TAG_FINAL if remaining == 0
               else b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        b.crypto_secretstream_xchacha20poly1305_push(state, piece, None, tag)
    return time.perf_counter() - start


def client_encrypt_only(total: int, block: bytes) -> float:
    """StreamEncryptor over the file, the runs joined as for sending, nothing sent."""
    start = time.perf_counter()
    for _ in _runs(crypto.KeyPair.generate().public, "CASE-BENCH", total, block):
        pass
    return time.perf_counter() - start


def _runs(public_key: bytes, ref: str, total: int, block: bytes):
    """(first chunk index, bytes) of each run of RUN_CHUNKS upload chunks of the file's stream."""
    encryptor = crypto.StreamEncryptor(public_key, case=ref, kind="attachment", author="reporter")
    chunks = [encryptor.header]
    index = 0
    for piece in _pieces(total, block):
        out = encryptor.push(piece)
        if out:
            chunks.append(out)
        if len(chunks) == RUN_CHUNKS:
            yield index, b"".join(chunks)
            index += RUN_CHUNKS
            chunks = []
    chunks.append(encryptor.finish())
    yield index, b"".join(chunks)


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict):
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def deployment_for(store: str, tmp_dir: Path, db_url: str | None) -> hb.Deployment:
    deployment = hb.prepare_deployment(tmp_dir / store, test_cost=True)
    deployment.raw["whistle.attachments.blob_store"] = store
    if db_url:
        from sqlalchemy import text

        from whistle.db import make_engine

        engine = make_engine(db_url)
        with engine.begin() as connection:  # a scratch database: emptied
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        deployment.raw["whistle.db.url"] = db_url
        deployment.raw["whistle.shred_store.url"] = f"sqlite:///{tmp_dir / store / 'shred-keys.sqlite'}"
    deployment.settings_file.write_text(json.dumps(deployment.raw))
    hb.populate_deployment(deployment)
    return deployment


def upload(port: int, deployment: hb.Deployment, total: int, block: bytes, inflight: int) -> dict:
    from sqlalchemy import select

    from whistle.cases.models import Case
    from whistle.db import make_engine

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    status, body = _request(conn, "POST", "/api/v1/disclosures", json.dumps(hb.DISCLOSURE).encode(),
                            {"Content-Type": "application/json"})
    if status != 201:
        raise SystemExit(f"disclosure: {status} {body[:300]!r}")
    sent = json.loads(body)
    engine = make_engine(deployment.db_url)
    with engine.connect() as connection:
        public_key = connection.scalar(select(Case.public_key).where(Case.ref == sent["case"]))
    engine.dispose()
    status, body = _request(conn, "POST", "/api/v1/reporter/session", json.dumps({"receipt": sent["receipt"]}).encode(),
                            {"Content-Type": "application/json"})
    headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    shape = {"chunks": crypto.stream_chunk_count(total), "bytes": crypto.stream_ciphertext_size(total)}

    start = time.perf_counter()
    status, body = _request(conn, "POST", "/api/v1/reporter/uploads", json.dumps(shape).encode(),
                            dict(headers, **{"Content-Type": "application/json"}))
    if status != 201:
        raise SystemExit(f"start: {status} {body[:300]!r}")
    upload_id = json.loads(body)["id"]
    runs: queue.Queue = queue.Queue(maxsize=2 * inflight)
    failures: list[str] = []

    def sender() -> None:
        own = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while (item := runs.get()) is not None:
            index, data = item
            answer, text = _request(own, "PUT", f"/api/v1/reporter/uploads/{upload_id}/{index}", data,
                                    dict(headers, **{"Content-Type": "application/octet-stream"}))
            if answer != 204:
                failures.append(f"chunk {index}: {answer} {text[:200]!r}")
        own.close()

    senders = [threading.Thread(target=sender) for _ in range(inflight)]
    for thread in senders:
        thread.start()
    for item in _runs(public_key, sent["case"], total, block):
        runs.put(item)
    for _ in senders:
        runs.put(None)
    for thread in senders:
        thread.join()
    sending = time.perf_counter() - start
    meta = crypto.encrypt_item(public_key, json.dumps({"name": "bench.bin", "size": total,
                                                       "type": "application/octet-stream"}).encode(),
                               case=sent["case"], kind="attachment-meta", author="reporter")
    status, body = _request(conn, "POST", f"/api/v1/reporter/uploads/{upload_id}/done",
                            json.dumps({"meta": base64.b64encode(meta).decode()}).encode(),
                            dict(headers, **{"Content-Type": "application/json"}))
    elapsed = time.perf_counter() - start
    conn.close()
    if failures or status != 201:
        raise SystemExit(f"upload failed: {failures[:3]} done: {status} {body[:300]!r}")
    return {"elapsed": elapsed, "sending": sending, "stored": json.loads(body)["bytes"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024, help="the file's size in MiB (default 1024)")
    parser.add_argument("--stores", default="local,database", help="the blob stores, comma-separated")
    parser.add_argument("--inflight", type=int, default=4, help="runs on their way at once (intake.js: 4)")
    parser.add_argument("--db-url", help="a scratch database (emptied!) instead of a throwaway SQLite file")
    parser.add_argument("--runner", default="auto", choices=("auto", "waitress", "whistle"))
    args = parser.parse_args(argv)
    total = args.mib * MIB
    block = crypto.random_bytes(MIB)
    runner = hb.runner_name(args.runner)
    print(c.machine_header("upload_bench", f"{args.mib} MiB"))
    baseline = raw_secretstream(total, block)
    rows = [["baseline: raw secretstream push, in memory", f"{baseline:.2f}", c.fmt_rate(total / baseline),
             "1.00x", "", ""]]
    encrypt = client_encrypt_only(total, block)
    rows.append(["client: StreamEncryptor + runs, nothing sent", f"{encrypt:.2f}", c.fmt_rate(total / encrypt),
                 c.fmt_ratio(baseline / encrypt), "", ""])
    notes = []
    with tempfile.TemporaryDirectory(prefix="whistle-upload-bench-") as tmp:
        for store in args.stores.split(","):
            deployment = deployment_for(store, Path(tmp), args.db_url)
            server = hb.start_server(f"upload-{store}", "whistle", deployment.settings_file, Path(tmp), 3600, runner)
            try:
                server.wait_ready()
                hb.call(server.port, hb.Request("GET", "/healthz"))
                before = proc_status(server.process.pid)
                result = upload(server.port, deployment, total, block, args.inflight)
                after = proc_status(server.process.pid)
            finally:
                server.stop()
            growth = (after["VmHWM"] - before["VmHWM"]) / 1024
            rows.append([f"upload to the {store} store, {args.inflight} runs on their way", f"{result['elapsed']:.2f}",
                         c.fmt_rate(total / result["elapsed"]), c.fmt_ratio(baseline / result["elapsed"]),
                         f"{before['VmHWM'] / 1024:.0f} -> {after['VmHWM'] / 1024:.0f}", f"{growth:+.1f}"])
            notes.append(f"{store}: chunks sent in {result['sending']:.2f} s, `done` (check and publish) "
                         f"{result['elapsed'] - result['sending']:.2f} s; stored {result['stored']:,} bytes; "
                         f"server log errors {server.error_lines()}")
    engine = "postgresql" if args.db_url else "sqlite"
    print(f"{engine}; runner {runner}; {crypto.stream_chunk_count(total):,} chunks in runs of {RUN_CHUNKS}")
    print()
    print(c.table(["measure", "seconds", "rate", "ratio", "server VmHWM MiB", "growth MiB"], rows))
    print()
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
