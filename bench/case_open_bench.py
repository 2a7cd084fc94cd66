"""Opening a big case: decrypted on the guardian's device (in Chromium, straight to the server and
through the desk) against the same case rendered by the server (server-assisted mode), in one run.

One real server (tests/e2e/server.py: pserve development.ini, i.e. waitress) holds one case with
200 items (the disclosure, its answers, 99 messages and 99 notes) and 20 files. Three Chromium
pages open it, each signed in as the same guardian:
  server-assisted  JavaScript off, signed in with the password form: the server unlocks the case
                   and renders every item into the page (the baseline);
  device           JavaScript on, signed in on the device: the server sends the envelopes and
                   workspace.js opens the grant, checks the keys and decrypts and fills every item;
  desk             the same as device, through `whistle desk` on loopback.
Each is timed from navigation start until the case is on the screen (the load event for the
server-assisted page; `data-case-opened` for the device pages), several times, and the median
reported with its ratio to the server-assisted median. Nothing passes or fails (bench/README.md).

    .venv/bin/python bench/case_open_bench.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_header  # noqa: E402
from tests.e2e.desk import DeskProcess, fingerprint_of  # noqa: E402
from tests.e2e.reporter_helpers import call, call_json, guardian_headers  # noqa: E402
from tests.e2e.server import Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHANNEL = "raise-a-concern"
MESSAGES, NOTES, FILES = 99, 99, 20


def build_case(server: Server) -> str:
    status, answer = call_json(server.port, "POST", "/api/v1/disclosures",
                               {"channel": CHANNEL, "text": "The night rota is signed for checks nobody did. " * 20,
                                "answers": {"ongoing": "yes", "where": "Ward 7"}})
    assert status == 201, answer
    ref = answer["case"]
    headers = guardian_headers(server)
    for n in range(MESSAGES):
        status, body = call_json(server.port, "POST", f"/api/v1/cases/{ref}/messages",
                                 {"text": f"Message {n}: we are looking into it. " * 8}, headers=headers)
        assert status in (200, 201), body
    for n in range(NOTES):
        status, body = call_json(server.port, "POST", f"/api/v1/cases/{ref}/notes",
                                 {"text": f"Note {n}: spoke to the ward manager. " * 8}, headers=headers)
        assert status in (200, 201), body
    for n in range(FILES):
        status, _, body = call(server.port, "POST", f"/api/v1/cases/{ref}/attachments",
                               body=bytes([n]) * 50_000, headers={**headers, "X-Filename": f"file-{n}.bin",
                                                                   "Content-Type": "application/octet-stream"})
        assert status == 201, body
    return ref


def sign_in(page, credentials: dict, step: int) -> None:
    """Signed in with a code of a time step not used before (a code is taken once): wait for it."""
    while int(time.time() // 30) < step:
        time.sleep(1)
    page.goto("/staff/login")
    page.fill("#username", credentials["username"])
    page.fill("#password", credentials["password"])
    page.fill("#otp", pyotp.TOTP(credentials["TOTP secret"]).at(step * 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/cases", timeout=60_000)


def time_open(page, ref: str, *, device: bool, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat + 1):  # the first open warms the caches (and, on the device, binds the grant)
        start = time.perf_counter()
        page.goto(f"/staff/cases/{ref}")
        if device:
            page.wait_for_selector("html[data-case-opened='true']", timeout=60_000)
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(machine_header("case_open_bench: a case of 200 items and 20 files opened", f"{args.repeat} opens each"))
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        server = Server(Path(directory))
        server.start()
        desk = None
        try:
            ref = build_case(server)
            credentials = server.demo_credentials()
            desk = DeskProcess(f"http://127.0.0.1:{server.port}", Path(directory), "--fingerprint",
                               fingerprint_of(server))
            assert desk.wait_serving(), desk.output()
            results = {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                step = int(time.time() // 30)  # the API sign-in's
                for name, port, script in (("server-assisted", server.port, False), ("device", server.port, True),
                                           ("desk", desk.port, True)):
                    step += 1
                    context = browser.new_context(base_url=f"http://127.0.0.1:{port}", java_script_enabled=script)
                    page = context.new_page()
                    sign_in(page, credentials, step)
                    mode = page.get_attribute("meta[name='whistle-mode']", "content")
                    assert mode == ("device" if script else "server-assisted"), mode
                    results[name] = time_open(page, ref, device=script, repeat=args.repeat)
                    if script:
                        shown = page.locator("article.message").count() + page.locator("article.note").count()
                        assert shown >= MESSAGES + NOTES, f"{name}: {shown} items on the page"
                    context.close()
                version = browser.version
                browser.close()
        finally:
            if desk is not None:
                desk.stop()
            server.stop()
    print(f"Chromium {version}; waitress via pserve development.ini on 127.0.0.1; the browser, the desk and the "
          "server share the machine's cores.\n")
    base = statistics.median(results["server-assisted"])
    print(f"{'mode':<18} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'ratio':>6}")
    for name, seconds in results.items():
        median = statistics.median(seconds)
        print(f"{name:<18} {median * 1000:>10.0f} {min(seconds) * 1000:>8.0f} {max(seconds) * 1000:>8.0f} "
              f"{median / base:>6.2f}")


if __name__ == "__main__":
    main()
