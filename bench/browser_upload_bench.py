"""Encrypting and uploading a file in the reporter's browser: Chromium against a real waitress server.

In one page of the real app (the intake form, which loads the crypto module):
  baseline   raw libsodium.js: crypto_secretstream_xchacha20poly1305_push over the file's bytes in
             64 KiB blocks, already in memory (no Blob reads, no envelope, no network);
  encrypt    crypto.js's encryptBlob over the Blob (64 KiB Blob.slice reads, the stream envelope),
             nothing sent;
  upload     reporter.js's uploadFile: encryptBlob, every chunk PUT to the chunked upload API of a
             real server (tests/e2e/server.py: pserve development.ini, i.e. waitress), then the
             attachment-meta item; the case is first built and sent as intake.js does. Twice: one
             request (a run of up to 16 chunks) on its way at a time, then four (what intake.js and
             mailbox.js use).
MiB/s of each, and each as a ratio of the baseline. Nothing passes or fails (bench/README.md).

    .venv/bin/python bench/browser_upload_bench.py [--mib 100]
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_header  # noqa: E402
from tests.e2e.server import Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHANNEL = "raise-a-concern"

# Runs in the page; `mib` is the file size. Returns seconds for each measurement.
MEASURE = """
async (mib) => {
  const sodium = (await import("/static/vendor/libsodium/libsodium-wrappers.mjs")).default;
  await sodium.ready;
  const c = await import("/static/js/crypto.js");
  const r = await import("/static/js/reporter.js");
  const MiB = 1 << 20;
  const block = new Uint8Array(MiB);
  for (let at = 0; at < MiB; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
  const file = new File(Array.from({ length: mib }, () => block), "bench.bin", { type: "application/octet-stream" });

  // baseline: raw secretstream over the same bytes, in memory
  let t = performance.now();
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const { state } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  for (let i = 0; i < mib * 16; i += 1) {
    const at = (i % 16) * 65536;
    sodium.crypto_secretstream_xchacha20poly1305_push(state, block.subarray(at, at + 65536), null, 0);
  }
  const baseline = (performance.now() - t) / 1000;

  // encrypt: the client's stream envelope over the Blob, 64 KiB slices, nothing sent
  const caseKeys = c.newKeyPair();
  t = performance.now();
  let bytes = 0;
  for await (const chunk of c.encryptBlob(file, caseKeys.publicKey, { case: "BENCH-00000", author: "reporter" })) {
    bytes += chunk.length;
  }
  const encrypt = (performance.now() - t) / 1000;

  // upload: a case built and sent as intake.js does, then the file through the chunked API
  const api = new r.Api();
  const directory = await r.fetchDirectory(api, "raise-a-concern");
  const report = { text: "bench", answers: { ongoing: "yes" }, routingAnswers: {}, identityMode: "anonymous", identity: null };
  const sent = await r.sendCase(api, directory, "raise-a-concern", report);
  api.token = sent.answer.token;
  const upload = {};
  let done = null;
  for (const window of [1, 4]) {
    t = performance.now();
    done = await r.uploadFile(api, file, sent.built.caseKeys.publicKey, sent.built.ref, { window });
    upload[window] = (performance.now() - t) / 1000;
  }
  return { baseline, encrypt, upload, ciphertext: bytes, stored: done.bytes, chunks: c.streamChunkCount(file.size) };
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=100, help="file size in MiB (default 100)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(machine_header("browser_upload_bench: encrypt and upload in Chromium", f"{args.mib} MiB"))
    with tempfile.TemporaryDirectory() as directory:
        server = Server(Path(directory))
        server.start()
        try:
            channels = re.sub(r"(?m)^(retention_days = \d+)$", r'\1\nguardians = ["demo.guardian"]',
                              (ROOT / "config" / "channels.toml").read_text())
            (Path(directory) / "channels.toml").write_text(channels)
            server.whistle("channels", "load", str(Path(directory) / "channels.toml"))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(base_url=f"http://127.0.0.1:{server.port}")
                page.goto(f"/report/{CHANNEL}")
                page.wait_for_selector("#key-fingerprint")
                version = browser.version
                result = page.evaluate(MEASURE, args.mib)
                browser.close()
        finally:
            server.stop()
    print(f"Chromium {version}; waitress via pserve development.ini on 127.0.0.1; the browser and the server share"
          f" the machine")
    rows = [("baseline: raw secretstream push, in memory", result["baseline"]),
            ("encrypt: encryptBlob over the Blob, nothing sent", result["encrypt"]),
            ("upload, one run at a time: encrypt + PUT + meta", result["upload"]["1"]),
            ("upload, 4 runs on their way (intake.js's)", result["upload"]["4"])]
    print(f"\n{'measure':<50} {'seconds':>8} {'MiB/s':>8} {'ratio':>6}")
    for name, seconds in rows:
        print(f"{name:<50} {seconds:>8.2f} {args.mib / seconds:>8.1f} {seconds / result['baseline']:>6.2f}")
    print(f"\n{result['chunks']} ciphertext chunks, {result['ciphertext']:,} bytes; stored {result['stored']:,} bytes."
          "\nratio = time / baseline time (higher is slower).")


if __name__ == "__main__":
    main()
