"""The case export's names and passphrase rules are the same in the browser (export-names.js, run in
node) and on the server (whistle.workspace.export): a device-built archive and a server-built one
name the same files the same way, and refuse the same passphrases in the same words."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from whistle.workspace.export import MIN_PASSPHRASE_CHARS, passphrase_errors, safe_names

ROOT = Path(__file__).parents[2]
MODULE = (ROOT / "whistle" / "static" / "js" / "export-names.js").as_uri()

NAMES = [
    "minutes.pdf", "Minutes.PDF", "minutes.pdf", "../../etc/passwd", "C:\\Users\\sam\\rota.xlsx", "..", "", " . ",
    ".hidden", "CON", "con.txt", "lpt9.doc", "a<b>c:d\"e|f?g*h.txt", "tab\there.txt", "new\nline.txt",
    "trailing dots...", "e\u0301te\u0301.doc", "émoji 😀 notes.md", "x" * 300 + ".pdf", "😀" * 150 + ".txt",
    "report.final version of the minutes", "archive.tar.gz", "no extension", "minutes (2).pdf", "MINUTES (2).PDF",
]
PASSPHRASES = [("", ""), ("short", "short"), ("x" * 11, "x" * 11), ("x" * 12, "x" * 12), ("x" * 12, "y" * 12),
               ("😀" * 12, "😀" * 12), ("😀" * 6, "😀" * 6), ("", "twelve chars!")]


def run_js(script: str) -> object:
    result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_browser_names_files_as_the_server_does():
    named = run_js(f"import {{ safeNames }} from {json.dumps(MODULE)};"
                   f"process.stdout.write(JSON.stringify(safeNames({json.dumps(NAMES)})));")
    assert named == safe_names(NAMES)
    assert len({name.lower() for name in named}) == len(NAMES)


def test_the_browser_refuses_the_passphrases_the_server_refuses():
    refused = run_js(f"import {{ passphraseErrors }} from {json.dumps(MODULE)};"
                     f"process.stdout.write(JSON.stringify({json.dumps(PASSPHRASES)}.map("
                     f"([p, a]) => passphraseErrors(p, a, {MIN_PASSPHRASE_CHARS}))));")
    assert refused == [passphrase_errors(passphrase, again) for passphrase, again in PASSPHRASES]
