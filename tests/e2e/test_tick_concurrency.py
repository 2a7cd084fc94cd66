"""Two `whistle tick` processes at once against one database deliver 1,000 due notifications
through a real SMTP server: each exactly once (SQLite: the lease; PostgreSQL: row locks)."""
from __future__ import annotations

import subprocess
import time
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import func, insert, select

from tests.e2e.server import BIN
from tests.smtp import running_smtp
from whistle.accounts.models import Account
from whistle.db import make_engine, make_session_factory
from whistle.notifications.models import DELIVERED, PENDING, Notification

NOTICES = 1000


def _ini(raw: dict, smtp_port: int) -> str:
    settings = {**raw, "whistle.plugins": "smtp", "whistle_smtp.host": "127.0.0.1",
                "whistle_smtp.port": str(smtp_port), "whistle_smtp.from_address": "speakup@example.org",
                "whistle_smtp.starttls": "false"}
    lines = ["[app:main]", "use = egg:whistle", *(f"{key} = {value}" for key, value in settings.items()),
             "", "[loggers]", "keys = root", "", "[handlers]", "keys = console", "", "[formatters]", "keys = generic",
             "", "[logger_root]", "level = WARNING", "handlers = console", "", "[handler_console]",
             "class = StreamHandler", "args = (sys.stderr,)", "formatter = generic", "", "[formatter_generic]",
             "format = %(levelname)s %(name)s %(message)s", ""]
    return "\n".join(lines)


def test_two_concurrent_ticks_deliver_1000_notifications_each_exactly_once(committed_database, tmp_path):
    raw = committed_database("concurrency")
    engine = make_engine(raw["whistle.db.url"])
    session = make_session_factory(engine)()
    now = datetime.now(timezone.utc)
    key = bytes(32)
    accounts = [{"username": f"g{n:04d}", "public_key": key, "key_by_password": key, "key_by_recovery": key,
                 "totp_secret_sealed": key, "created_at": now, "is_guardian": True, "is_admin": False,
                 "disabled": False, "failed_logins": 0, "notify_channel": "email",
                 "notify_address": f"g{n:04d}@example.org"} for n in range(NOTICES)]
    session.execute(insert(Account), accounts)
    ids = session.scalars(select(Account.id).order_by(Account.id)).all()
    session.execute(insert(Notification), [{"account_id": account_id, "kind": "attention", "created_at": now,
                                            "state": PENDING, "attempts": 0, "next_attempt_at": now} for account_id in ids])
    session.commit()

    with running_smtp() as (smtp, inbox):
        ini = tmp_path / "tick.ini"
        ini.write_text(_ini(raw, smtp.port))
        started = time.monotonic()
        ticks = [subprocess.Popen([str(BIN / "whistle"), "-c", str(ini), "tick"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [tick.communicate(timeout=300) for tick in ticks]
        elapsed = time.monotonic() - started

    for tick, (out, err) in zip(ticks, outputs):
        assert tick.returncode == 0, err
        assert "Traceback" not in err
    received = Counter(address for envelope in inbox.accepted for address in envelope.rcpt_tos)
    assert len(received) == NOTICES, outputs
    assert set(received.values()) == {1}, [address for address, n in received.items() if n > 1][:5]
    states = dict(session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all())
    assert states == {DELIVERED: NOTICES}
    print(f"{NOTICES} delivered exactly once by two ticks in {elapsed:.1f} s:", [out.strip() for out, _ in outputs])
    session.close()
    engine.dispose()
