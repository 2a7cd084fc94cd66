"""The memory scanner finds what a process holds and nothing it does not: without this, a scan that
reads nothing would pass every "no plaintext in the server's memory" test."""
from __future__ import annotations

import secrets
import subprocess
import sys

from tests.e2e.memory import process_holds

HOLDER = "import sys\nkept = sys.stdin.readline().strip() * 1\nprint('ready', flush=True)\nsys.stdin.readline()\n"


def test_a_marker_the_process_holds_is_found_and_one_it_never_saw_is_not():
    held, never_sent = f"held-{secrets.token_hex(8)}-ünïcode", f"absent-{secrets.token_hex(8)}"
    child = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        child.stdin.write(held + "\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ready"
        assert process_holds(child.pid, held)
        assert process_holds(child.pid, never_sent) == []
    finally:
        child.stdin.close()
        child.wait(timeout=10)
