"""A real waitress server running `pserve` on a copy of development.ini in a temporary directory,
and a minimal cookie-keeping HTTP client that connects from a chosen loopback address."""
from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from whistle.crypto import SigningKey, public_key_file_text

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


TEST_LIMITS = dict.fromkeys((
    "whistle.intake.reports_per_client", "whistle.intake.reports_per_minute", "whistle.intake.surge_reports_per_minute",
    "whistle.mailbox.receipt_failures_per_client", "whistle.attachments.uploads_per_client",
    "whistle.attachments.uploads_per_minute"), 100000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _set(ini: str, section: str, values: dict[str, str]) -> str:
    """`ini` with each of `values` set in `section`: an existing line replaced, a missing one added."""
    for key, value in values.items():
        line = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
        head = ini.index(f"[{section}]\n")
        end = ini.find("\n[", head + 1)
        end = len(ini) if end < 0 else end
        body = ini[head:end]
        body = line.sub(lambda _: f"{key} = {value}", body, count=1) if line.search(body) else \
            body.replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n", 1)
        ini = ini[:head] + body + ini[end:]
    return ini


class Server:
    """`pserve development.ini` in `directory`, on a free port, logging to `directory/server.log`.
    `plugins`: more plugins to enable (after development.ini's), found on `pythonpath` if given.
    `settings`: app settings set in the copy (e.g. `whistle.db.url` and `whistle.shred_store.url`
    for a database other than the SQLite file in `directory/var`); `server_settings`: waitress's.

    A node of a deployment another Server already configured: `Server(directory, node_of=first)`
    serves the same configuration (database, key files, blob store, organisation key: everything
    under `first.directory`) from its own port, with its own log and debugging mail server."""

    def __init__(self, directory: Path, *, plugins: tuple[str, ...] = (), pythonpath: Path | None = None,
                 limits: dict[str, int] | None = None, settings: dict[str, str] | None = None,
                 server_settings: dict[str, str] | None = None, node_of: Server | None = None) -> None:
        self.directory = directory
        self.env = dict(os.environ, PYTHONPATH=f"{pythonpath}{os.pathsep}{os.environ.get('PYTHONPATH', '')}") \
            if pythonpath else None
        self.port = free_port()
        self.log = directory / "server.log"
        self.process: subprocess.Popen | None = None
        self.home = node_of.home if node_of is not None else directory  # where var/ is
        if node_of is not None:
            self._configure_as_node_of(node_of)
            return
        ini = (ROOT / "development.ini").read_text()
        ini = ini.replace("listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{self.port}")
        ini = re.sub(r"(whistle\.kdf\.(receipt_)?opslimit) = \d+", r"\1 = 1", ini)
        ini = re.sub(r"(whistle\.kdf\.(receipt_)?memlimit) = \d+", r"\1 = 8192", ini)
        # The tests send many requests from one address: the limits are raised, unless a test sets its own.
        budgets = {**TEST_LIMITS, **(limits or {})}
        lines = "".join(f"{key} = {value}\n" for key, value in budgets.items())
        ini = ini.replace("[app:main]\n", "[app:main]\n" + lines, 1)
        # Servers run side by side: each its own debugging mail server, and its smtp plugin sends there.
        self.mail_port = free_port()
        ini = re.sub(r"^whistle\.dev\.mail_server = .*$", f"whistle.dev.mail_server = 127.0.0.1:{self.mail_port}",
                     ini, flags=re.MULTILINE)
        ini = re.sub(r"^whistle_smtp\.port = .*$", f"whistle_smtp.port = {self.mail_port}", ini, flags=re.MULTILINE)
        # The webhook plugin's secret (`make run` makes it in var/keys/), here outside var/, which
        # holds only what whistle itself keeps.
        webhook_secret = directory / "webhook_secret"
        webhook_secret.write_text(secrets.token_urlsafe(32) + "\n")
        webhook_secret.chmod(0o600)
        ini = re.sub(r"^whistle_webhook\.secret_file = .*$", f"whistle_webhook.secret_file = {webhook_secret}", ini,
                     flags=re.MULTILINE)
        if plugins:
            ini = re.sub(r"^(whistle\.plugins = .*)$", lambda match: f"{match.group(1)} {' '.join(plugins)}", ini,
                         flags=re.MULTILINE)
        # The organisation key (`make run` makes it in var/keys/ with `keys org-init`), here outside var/
        # like the webhook secret.
        self.org_key = SigningKey.generate()
        self.org_key.write(directory / "org_signing_key")
        (directory / "org_public_key").write_text(public_key_file_text(self.org_key.public_key))
        ini = re.sub(r"^whistle\.org\.(signing|public)_key_file = .*$",
                     lambda match: f"whistle.org.{match.group(1)}_key_file = {directory / f'org_{match.group(1)}_key'}",
                     ini, flags=re.MULTILINE)
        ini = _set(ini, "app:main", settings or {})
        ini = _set(ini, "server:main", server_settings or {})
        self.ini = directory / "development.ini"
        self.ini.write_text(ini)

    def _configure_as_node_of(self, first: Server) -> None:
        self.env, self.org_key = first.env, first.org_key
        self.mail_port = free_port()
        # Every path of the first node's configuration, made absolute, so this copy in another
        # directory names the same files; only the port and the mail server are this node's own.
        ini = first.ini.read_text().replace("%(here)s", str(first.directory))
        ini = ini.replace(f"listen = 127.0.0.1:{first.port}", f"listen = 127.0.0.1:{self.port}")
        ini = ini.replace(f"127.0.0.1:{first.mail_port}", f"127.0.0.1:{self.mail_port}")
        ini = ini.replace(f"whistle_smtp.port = {first.mail_port}", f"whistle_smtp.port = {self.mail_port}")
        self.ini = self.directory / "development.ini"
        self.ini.write_text(ini)

    def whistle(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([str(BIN / "whistle"), "-c", str(self.ini), *args], capture_output=True, text=True,
                                check=True, timeout=120, env=self.env, input=stdin)
        return result.stdout

    def _enrol_demo_guardian(self) -> None:
        """What `whistle demo` does, for a database it refuses (it is for SQLite only): the channels,
        and the guardian demo.guardian on the two that take reports, its credentials where `demo`
        keeps them (var/demo-guardian.txt)."""
        self.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
        password = secrets.token_urlsafe(12)
        out = self.whistle("guardian", "add", "demo.guardian", "--channel", "raise-a-concern", "--channel",
                           "young-peoples-voice", "--password-stdin", stdin=password + "\n")
        secret = re.search(r"TOTP secret:\s+(\S+)", out)
        assert secret, out
        credentials = self.home / "var" / "demo-guardian.txt"
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(f"username: demo.guardian\npassword: {password}\nTOTP secret: {secret.group(1)}\n")

    def start(self, *, prepare: bool = True) -> None:
        """Serve; first (`prepare`) migrate the database and make the demo accounts, which a second
        node of the same deployment, or a restart, skips."""
        if prepare:
            self.whistle("db", "upgrade")
            if re.search(r"^whistle\.db\.url = sqlite", self.ini.read_text(), re.MULTILINE):
                self.whistle("demo")
            else:
                self._enrol_demo_guardian()
        log = self.log.open("ab")
        self.process = subprocess.Popen([str(BIN / "pserve"), str(self.ini)], stdout=log, stderr=log,
                                        cwd=self.directory, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing is cleaned up or flushed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def demo_credentials(self) -> dict[str, str]:
        text = (self.home / "var" / "demo-guardian.txt").read_text()
        return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}

    def files_at_rest(self) -> list[Path]:
        """Everything the server keeps on disk: database (and WAL), blobs, keys."""
        return [path for path in (self.home / "var").rglob("*") if path.is_file()]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def form_fields(self) -> dict[str, str]:
        """The hidden inputs of the page's first form (enough for the CSRF token)."""
        return {unescape(name): unescape(value) for name, value in
                re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', self.text)}


@dataclass
class Browser:
    """A client without JavaScript: keeps cookies, follows nothing by itself."""

    port: int
    source: str = "127.0.0.2"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.source, 0))
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, urlencode(fields, doseq=True).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})


