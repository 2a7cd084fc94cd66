"""The audit chain: every event carries the hash of the one before; tampering is named."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from whistle.audit.models import AuditEvent, AuditHead
from whistle.audit.services import record, verify_chain


@pytest.fixture
def chain(dbsession, clock):
    start = dbsession.get(AuditHead, 1).length
    for number in range(5):
        record(dbsession, clock, actor="account:1", action="case.viewed", case_id=number, detail={"n": number})
    dbsession.flush()
    return start


def seq(chain, n):
    return chain + n


def test_an_untouched_chain_verifies(dbsession, chain):
    report = verify_chain(dbsession)
    assert report.intact and report.events == chain + 5


def test_a_modified_event_is_named(dbsession, chain):
    dbsession.execute(update(AuditEvent).where(AuditEvent.seq == seq(chain, 3)).values(detail={"n": 99}))
    report = verify_chain(dbsession)
    assert (report.first_broken, report.reason) == (seq(chain, 3), "its contents were changed")


def test_a_deleted_event_is_named(dbsession, chain):
    dbsession.execute(delete(AuditEvent).where(AuditEvent.seq == seq(chain, 2)))
    report = verify_chain(dbsession)
    assert report.first_broken == seq(chain, 2) and "missing" in report.reason


def test_a_deleted_last_event_is_noticed(dbsession, chain):
    dbsession.execute(delete(AuditEvent).where(AuditEvent.seq == seq(chain, 5)))
    assert verify_chain(dbsession).first_broken == seq(chain, 5)


def test_reordered_events_are_named(dbsession, chain):
    a, b = (dbsession.scalars(select(AuditEvent).where(AuditEvent.seq == seq(chain, n))).one() for n in (2, 3))
    # Swap everything but the position: as if someone reordered the log.
    fields = ("at", "actor", "action", "case_id", "detail", "prev_hash", "hash")
    values_a, values_b = ({f: getattr(e, f) for f in fields} for e in (a, b))
    for field, value in values_b.items():
        setattr(a, field, value)
    for field, value in values_a.items():
        setattr(b, field, value)
    dbsession.flush()
    assert verify_chain(dbsession).first_broken == seq(chain, 2)


def test_reporter_events_are_dated_to_the_day(dbsession, clock):
    event = record(dbsession, clock, actor="reporter", action="case.opened")
    assert (event.at.hour, event.at.minute, event.at.second, event.at.microsecond) == (0, 0, 0, 0)
    assert event.at.date() == clock.now().date()


def test_audit_verify_on_the_command_line_names_the_first_broken_event(tmp_path, capsys):
    """`whistle -c FILE audit verify`: exit 0 and a count when intact; exit 1 naming the event."""
    import transaction

    from tests.e2e.server import Server
    from whistle.cli import env, main
    from whistle.cli.database import upgrade
    from whistle.db import get_tm_session, make_engine, make_session_factory

    ini = Server(tmp_path).ini  # a real .ini (not started)
    environment = env.load(str(ini))
    upgrade(environment.settings.db_url)
    engine = make_engine(environment.settings.db_url)
    try:
        def change(work):
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                work(get_tm_session(make_session_factory(engine, audit_key=environment.settings.audit_key), manager))

        change(lambda db: [record(db, environment.clock, actor="system", action="test.event", detail={"n": n})
                           for n in range(4)])
        assert main(["-c", str(ini), "audit", "verify"]) == 0
        assert capsys.readouterr().out.strip().startswith("4 events, chain intact, head MAC checks out")

        change(lambda db: db.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(action="test.other")))
        assert main(["-c", str(ini), "audit", "verify"]) == 1
        assert capsys.readouterr().out.strip() == "audit chain broken at event 3: its contents were changed"
    finally:
        engine.dispose()


def test_every_append_macs_the_head_with_the_audit_key(dbsession, clock, settings):
    from whistle import crypto

    record(dbsession, clock, actor="system", action="test.event")
    head = dbsession.get(AuditHead, 1)
    dbsession.refresh(head)
    assert head.mac == crypto.audit_head_mac(settings.audit_key, head.length, head.hash)


def test_a_head_whose_mac_does_not_check_out_is_not_signed_again(dbsession, clock, settings):
    """A database writer's head (here: a MAC of their own) is never vouched for by the next append."""
    record(dbsession, clock, actor="system", action="test.event")
    dbsession.execute(update(AuditHead).where(AuditHead.id == 1).values(mac=bytes(32)))
    record(dbsession, clock, actor="system", action="test.event")
    head = dbsession.get(AuditHead, 1)
    dbsession.refresh(head)
    assert head.mac == bytes(32)


def test_a_session_without_the_audit_key_cannot_append(app, tm):
    from whistle.audit.services import AuditKeyMissing
    from whistle.db import get_tm_session, make_session_factory

    dbsession = get_tm_session(make_session_factory(app.registry["db_engine"]), tm)
    with pytest.raises(AuditKeyMissing):
        record(dbsession, app.registry.clock, actor="system", action="test.event")


@pytest.mark.parametrize("line", [
    "", "not json", "{}", '{"seq":1}', '[1,2]',
    '{"seq":true,"hash":"' + "00" * 32 + '","at":"2026-12-05T12:00:00Z","mac":"' + "00" * 32 + '"}',
    '{"seq":0,"hash":"' + "00" * 32 + '","at":"2026-12-05T12:00:00Z","mac":"' + "00" * 32 + '"}',
    '{"seq":1,"hash":"' + "zz" * 32 + '","at":"2026-12-05T12:00:00Z","mac":"' + "00" * 32 + '"}',
    '{"seq":1,"hash":"' + "00" * 32 + '","at":"yesterday","mac":"' + "00" * 32 + '"}',
    '{"seq":1,"hash":"' + "00" * 32 + '","at":"2026-12-05T12:00:00Z","mac":"' + "00" * 32 + '","x":1}',
])
def test_a_line_that_is_not_a_checkpoint_is_read_as_none(line):
    from whistle.audit.checkpoints import parse_line

    assert parse_line(line) is None


def test_a_checkpoint_line_reads_back_from_the_file_and_from_a_log_line(tmp_path):
    from whistle.audit.checkpoints import Checkpoint, append_checkpoint, parse_line, read_checkpoint_file

    checkpoint = Checkpoint.taken(bytes(range(32)), 12, bytes(32), datetime(2026, 12, 5, 12, 0, 30, tzinfo=UTC))
    path = tmp_path / "keys" / "audit-checkpoints"
    append_checkpoint(path, checkpoint)
    append_checkpoint(path, checkpoint)
    assert [line.checkpoint for line in read_checkpoint_file(path)] == [checkpoint, checkpoint]
    assert path.stat().st_mode & 0o777 == 0o600
    assert parse_line(f"2026-12-05 12:00:30,001 INFO  [whistle.audit.services] audit checkpoint {checkpoint.line()}") \
        == checkpoint
    assert checkpoint.mac_matches(bytes(range(32))) and not checkpoint.mac_matches(bytes(32))


def test_a_bulk_append_writes_the_chain_event_by_event_as_single_appends_would(dbsession, clock, settings):
    from whistle import crypto
    from whistle.audit.services import appending_in_bulk

    start = dbsession.get(AuditHead, 1).length
    with appending_in_bulk(dbsession):
        for number in range(20):
            record(dbsession, clock, actor="system", action="case.escalated", case_id=number,
                   detail={"rule": "eu.ack-reminder", "n": number})
        record(dbsession, clock, actor="reporter", action="reporter.wrote", case_id=3)  # dated to the day
    dbsession.flush()
    head = dbsession.get(AuditHead, 1)
    dbsession.refresh(head)
    events = list(dbsession.scalars(select(AuditEvent).where(AuditEvent.seq > start).order_by(AuditEvent.seq)))
    assert [event.seq for event in events] == list(range(start + 1, start + 22)) and head.length == start + 21
    report = verify_chain(dbsession)
    assert report.intact and report.events == start + 21
    assert head.hash == events[-1].hash and head.mac == crypto.audit_head_mac(settings.audit_key, head.length, head.hash)
    record(dbsession, clock, actor="system", action="case.viewed")  # a single append goes on from it
    dbsession.flush()
    assert verify_chain(dbsession).intact


def test_a_savepoint_rolled_back_inside_a_bulk_append_undoes_the_whole_of_it(dbsession, clock):
    from whistle.audit.services import appending_in_bulk

    start = dbsession.get(AuditHead, 1).length
    with pytest.raises(RuntimeError, match="savepoint was rolled back"), dbsession.begin_nested():
        with appending_in_bulk(dbsession):
            record(dbsession, clock, actor="system", action="case.escalated", case_id=1)
            try:
                with dbsession.begin_nested():
                    record(dbsession, clock, actor="system", action="case.escalated", case_id=2)
                    raise ValueError("one case failed")
            except ValueError:
                pass
    dbsession.expire_all()
    assert dbsession.get(AuditHead, 1).length == start and verify_chain(dbsession).intact
