"""The purge, moved past retention with a ManualClock on a committed database: the case's shred
keys are destroyed first, then its rows and blobs; nothing of it is left in the database file or
the blob directory (a marker scan: what the reporter and the guardians wrote and sent, and every
ciphertext the case had); the audit log keeps a metadata-only "case purged" and its chain still
verifies; `whistle_case_purged` fires. A case on legal hold survives until the hold is lifted; a
withdrawn case and one never taken up follow their own periods; guardians get one content-free
notice 30 days before; a case built on the reporter's device purges the same way."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.factories import (
    Staff,
    api_login,
    build_client_case,
    make_channel,
    make_staff,
    send_client_case,
    sign_directory,
    submit_api,
)
from tests.functional.scheduler.conftest import World
from tests.plugins import purge_plugin
from whistle import crypto
from whistle.admin.services import detail_for_admins
from whistle.attachments.models import PendingUpload
from whistle.audit import verify_chain
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_ESCROW, Attachment, Case, CaseGrant, CaseItem
from whistle.cases.services import shred_handles
from whistle.cli import main as whistle_main
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.models import Base
from whistle.notifications.models import Notification
from whistle.records import services as records
from whistle.shredding import shred_store_of

PLUGIN = "tests.plugins.purge_plugin"
START = date(2027, 3, 1)
DAYS, UNTAKEN, WITHDRAWN = 60, 20, 5
MARKERS = {
    "text": "MARKER-TEXT the night shift leaves one nurse for forty beds",
    "message": "MARKER-MESSAGE it happened again on Sunday",
    "reply": "MARKER-REPLY thank you, we are looking into it",
    "note": "MARKER-NOTE check the rota for ward 7",
    "learned": "MARKER-LEARNED rotas are now checked by two people",
    "reporter_file": "MARKER-FILE-FROM-REPORTER rota photo",
    "internal_file": "MARKER-FILE-INTERNAL strategy minutes",
}


@dataclass
class Setup:
    world: World
    guardian: Staff  # first tier: holds every case

    @property
    def headers(self) -> dict:
        """A fresh sign-in (sessions expire while the clock moves on by weeks)."""
        return api_login(self.world.testapp, self.guardian, self.world.clock)


@pytest.fixture
def setup(world) -> Setup:
    """An installation with a channel kept DAYS after closure (UNTAKEN never taken up, WITHDRAWN
    after withdrawal), its guardian and a second-tier guardian on standby, the purge plugin on."""
    return _installation(world)


@pytest.fixture
def sqlite_setup(world) -> Setup:
    """The same on SQLite whatever the engine under test."""
    return _installation(world, sqlite=True)


def _installation(world, *, sqlite: bool = False) -> Setup:
    purge_plugin.PURGED.clear()
    built = world(plugins=[PLUGIN], start=START, sqlite=sqlite)
    with built.session() as dbsession:
        channel = make_channel(dbsession, "staff", retention_days=DAYS, retention_untaken_days=UNTAKEN,
                               retention_withdrawn_days=WITHDRAWN)
        first = make_staff(dbsession, built.ctx.settings, built.clock, "first")
        second = make_staff(dbsession, built.ctx.settings, built.clock, "second")
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=first.account.id))
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
        sign_directory(dbsession, built.ctx.settings, built.clock)
        first = replace(first, account=SimpleNamespace(id=first.account.id, username=first.account.username))
    return Setup(built, first)


def _case(world: World, ref: str) -> dict | None:
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).first()
        return None if case is None else {"id": case.id, "delete_on": case.delete_on, "hold_since": case.hold_since,
                                          "handles": shred_handles(dbsession, case)}


def _file(app, path: str, headers: dict, body: bytes, name: str) -> None:
    app.post(path, body, status=201,
             headers=dict(headers, **{"Content-Type": "application/octet-stream", "X-Filename": quote(name)}))


def full_case(setup: Setup) -> str:
    """A case with everything a case can have: the reporter's text, message and file, a reply, a
    note, an internal file, a label, reads, an escrow copy, an unfinished upload; closed today."""
    app, headers = setup.world.testapp, setup.headers
    sent = submit_api(app, "staff", text=MARKERS["text"])
    ref = sent["case"]
    reporter = {"Authorization": "Bearer " + app.post_json("/api/v1/reporter/session",
                                                            {"receipt": sent["receipt"]}).json["token"]}
    app.post_json("/api/v1/reporter/messages", {"text": MARKERS["message"]}, headers=reporter, status=201)
    _file(app, "/api/v1/reporter/attachments", reporter, MARKERS["reporter_file"].encode() * 50, "rota.jpg")
    app.post_json(f"/api/v1/cases/{ref}/messages", {"text": MARKERS["reply"]}, headers=headers, status=201)
    app.post_json(f"/api/v1/cases/{ref}/notes", {"text": MARKERS["note"]}, headers=headers, status=201)
    _file(app, f"/api/v1/cases/{ref}/attachments?internal=true", headers, MARKERS["internal_file"].encode() * 50,
          "minutes.pdf")
    app.post_json(f"/api/v1/cases/{ref}/triage", {"add_labels": ["staffing"]}, headers=headers)
    app.get(f"/api/v1/cases/{ref}", headers=headers)
    for to in ("acknowledged", "assessing"):
        app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "closed", "substantiated": "yes", "changes": ["process"],
                                                      "learned": MARKERS["learned"]}, headers=headers)
    store = setup.world.testapp.app.registry.blob_store
    with setup.world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
        # An escrow copy (made at intake when the directory has an escrow key) and a file whose upload
        # in chunks never finished: both go with the case.
        dbsession.add(CaseGrant(case_id=case.id, holder=HOLDER_ESCROW, sealed_case_key=crypto.random_bytes(80),
                                granted_on=case.opened_on))
        staged = store.stage_new()
        store.stage_write(staged, 0, b"MARKER-STAGED chunk of an unfinished upload")
        dbsession.add(PendingUpload(public_id=crypto.random_token(24), case_id=case.id, chunks=2, total_bytes=100,
                                    staged_name=staged, started_on=case.opened_on))
    return ref


def traces(world: World, ref: str) -> list[bytes]:
    """What a scan must not find once the case is purged: the markers as typed, and a piece of
    every ciphertext the case has in the database and the blob store."""
    found = [marker.encode() for marker in MARKERS.values()] + [b"MARKER-STAGED"]
    with world.session() as dbsession:
        case_id = dbsession.scalar(select(Case.id).where(Case.ref == ref))
        found += [row[16:48] for row in dbsession.scalars(select(CaseItem.ciphertext)
                                                           .where(CaseItem.case_id == case_id))]
        found += [row[16:48] for row in dbsession.scalars(select(CaseGrant.sealed_case_key)
                                                           .where(CaseGrant.case_id == case_id))]
        blobs = list(dbsession.scalars(select(Attachment.blob_name).where(Attachment.case_id == case_id)))
    directory = Path(world.ctx.settings.storage_dir)
    found += [(directory / name).read_bytes()[100:132] for name in blobs]
    assert len(blobs) == 2 and all(len(piece) == 32 for piece in found[len(MARKERS) + 1:])
    return found


def stored_files(world: World) -> list[Path]:
    """The database file (with its write-ahead log) and everything in the blob directory."""
    database = Path(make_url(world.ctx.settings.db_url).database)
    files = [path for path in database.parent.glob(database.name + "*") if path.is_file()]
    return files + [path for path in Path(world.ctx.settings.storage_dir).rglob("*") if path.is_file()]


def rows_left(world: World, case_id: int) -> dict[str, int]:
    """Rows naming the case in every table with a case_id (the audit log's metadata apart)."""
    left = {}
    with world.session() as dbsession:
        for table in Base.metadata.sorted_tables:
            if "case_id" in table.c and table.name != "audit_events":
                count = dbsession.scalar(select(func.count()).select_from(table).where(table.c.case_id == case_id))
                if count:
                    left[table.name] = count
        if dbsession.get(Case, case_id) is not None:
            left["cases"] = 1
    return left


def audit_verify(world: World, tmp_path: Path, capsys) -> str:
    """`whistle audit verify` on the installation, as an operator runs it: its output."""
    ini = tmp_path / "whistle.ini"
    raw = {key: value for key, value in world.testapp.app.registry.settings.items() if key.startswith("whistle.")}
    ini.write_text("[app:main]\n" + "".join(f"{key} = {value}\n" for key, value in raw.items()))
    capsys.readouterr()
    assert whistle_main(["-c", str(ini), "audit", "verify"]) == 0
    return capsys.readouterr().out


def test_past_retention_the_case_is_gone_for_good_and_the_chain_still_verifies(setup, tmp_path, capsys):
    world = setup.world
    ref = full_case(setup)
    before = _case(world, ref)
    assert before["delete_on"] == START + timedelta(days=DAYS)
    found = traces(world, ref)
    with world.session() as dbsession:
        # The case's own key (wrapping every grant), one per item, one per file.
        items = dbsession.scalar(select(func.count()).select_from(CaseItem).where(CaseItem.case_id == before["id"]))
        assert len(before["handles"]) == 1 + items + 2
        assert len(shred_store_of(dbsession).keys(before["handles"])) == len(before["handles"])
    with world.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(CaseGrant).where(
            CaseGrant.case_id == before["id"], CaseGrant.holder == "standby")) == 1

    world.go_to(before["delete_on"] - timedelta(days=1))
    world.tick()
    assert _case(world, ref) is not None, "kept until its day"
    world.go_to(before["delete_on"])
    assert "records: 0 deletion dates set, 0 cases' guardians told, 1 cases purged" in world.tick()

    assert _case(world, ref) is None and rows_left(world, before["id"]) == {}
    with world.session() as dbsession:
        assert shred_store_of(dbsession).keys(before["handles"]) == {}
        assert verify_chain(dbsession).intact
        purged = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "case.purged")).one()
        assert purged.case_id == before["id"] and purged.actor == "system"
        assert purged.detail == {"ref": ref, "channel": "staff", "opened_on": START.isoformat(),
                                 "closed_on": START.isoformat(), "withdrawn_on": None,
                                 "delete_on": before["delete_on"].isoformat()}
        assert dbsession.scalar(select(func.count()).select_from(PendingUpload)) == 0
        assert "ref" not in detail_for_admins(purged.action, purged.detail), "an admin never sees a reference"
    assert not list((Path(world.ctx.settings.storage_dir) / "staging").iterdir())
    for path in stored_files(world):
        content = path.read_bytes()
        assert [trace for trace in found if trace in content] == [], f"{path.name} still holds the case"
    assert purge_plugin.PURGED == [(ref, "staff")]
    assert "events, chain intact, head MAC checks out" in audit_verify(world, tmp_path, capsys)
    assert not [line for line in world.tick() if line.startswith("records:")], "nothing more to do"


def test_a_held_case_survives_and_is_purged_once_the_hold_is_lifted_and_its_day_passed(setup):
    world, headers = setup.world, setup.headers
    kept, other = (submit_api(world.testapp, "staff", text=f"case {n}")["case"] for n in range(2))
    for ref in (kept, other):
        for to in ("acknowledged", "assessing"):
            world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
        world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {
            "to": "closed", "substantiated": "no", "changes": ["none"], "learned": "Nothing."}, headers=headers)
    due = _case(world, kept)["delete_on"]
    world.testapp.post_json(f"/api/v1/cases/{kept}/legal-hold", {"reason": "A claim is pending."}, headers=headers,
                            status=201)
    world.go_to(due + timedelta(days=10))
    world.tick()
    assert _case(world, other) is None and _case(world, kept) is not None
    assert _case(world, kept)["delete_on"] is None
    world.testapp.delete(f"/api/v1/cases/{kept}/legal-hold", headers=setup.headers, status=204)
    assert _case(world, kept)["delete_on"] == due, "lifting works the day out again"
    world.tick()
    assert _case(world, kept) is None
    assert sorted(purge_plugin.PURGED) == sorted([(kept, "staff"), (other, "staff")])


def _close_by_hand(world: World, ref: str, *, acknowledged: bool, withdrawn: bool) -> None:
    """Close a case as the reporter's withdrawal (or a case never taken up) leaves it: status
    closed, the day set, no deletion day yet (the tick works it out)."""
    with world.session() as dbsession:
        case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
        today = world.clock.today()
        case.status, case.closed_on, case.delete_on = "closed", today, None
        case.acknowledged_on = today if acknowledged else None
        case.withdrawn_on = today if withdrawn else None


@pytest.mark.parametrize(("acknowledged", "withdrawn", "days"), [
    (True, True, WITHDRAWN), (False, True, WITHDRAWN), (False, False, UNTAKEN)])
def test_withdrawn_and_never_taken_up_cases_follow_their_own_periods(setup, acknowledged, withdrawn, days):
    world = setup.world
    ref = submit_api(world.testapp, "staff")["case"]
    _close_by_hand(world, ref, acknowledged=acknowledged, withdrawn=withdrawn)
    world.tick()
    assert _case(world, ref)["delete_on"] == START + timedelta(days=days)
    world.go_to(START + timedelta(days=days - 1))
    world.tick()
    assert _case(world, ref) is not None
    world.go_to(START + timedelta(days=days))
    world.tick()
    assert _case(world, ref) is None


def test_guardians_are_told_once_30_days_before_with_a_notice_that_says_nothing(setup):
    world, headers = setup.world, setup.headers
    sent = submit_api(world.testapp, "staff", text=MARKERS["text"])
    ref = sent["case"]
    for to in ("acknowledged", "assessing"):
        world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {
        "to": "closed", "substantiated": "no", "changes": ["none"], "learned": "Nothing."}, headers=headers)
    due = _case(world, ref)["delete_on"]

    def notices() -> list[tuple]:
        with world.session() as dbsession:
            return [(n.account_id, n.kind) for n in dbsession.scalars(select(Notification).where(
                Notification.created_at >= world.clock.now().replace(hour=0, minute=0)))]

    world.go_to(due - timedelta(days=31))
    world.tick()
    assert notices() == []
    with world.session() as dbsession:
        first = dbsession.scalars(select(ChannelGuardian.account_id).where(ChannelGuardian.tier == 1)).one()
    for offset in (30, 29):
        world.go_to(due - timedelta(days=offset))
        world.tick()
    world.go_to(due - timedelta(days=30))
    assert notices() == [(first, "attention")], "once, to the holder only (not the guardian on standby)"
    with world.session() as dbsession:
        assert dbsession.scalar(select(Case.deletion_notice_for).where(Case.ref == ref)) == due
        row = dbsession.scalars(select(Notification)).all()[-1]
        assert ref not in str(vars(row)) and MARKERS["text"] not in str(vars(row))


def test_a_case_built_on_the_reporters_device_purges_the_same_way(setup):
    world = setup.world
    built = build_client_case(world.testapp, world.ctx.settings, world.clock, "staff", text=MARKERS["text"])
    sent = send_client_case(world.testapp, built)
    reporter = {"Authorization": f"Bearer {sent['token']}"}
    world.testapp.post_json("/api/v1/reporter/messages", {"item": built.item("message", MARKERS["message"])},
                            headers=reporter, status=201)
    ref = built.ref
    with world.session() as dbsession:
        ciphertexts = [row[16:48] for row in dbsession.scalars(
            select(CaseItem.ciphertext).join(Case).where(Case.ref == ref))]
    assert len(ciphertexts) == 2
    _close_by_hand(world, ref, acknowledged=True, withdrawn=False)
    before = _case(world, ref)
    assert len(before["handles"]) == 3, "the case's key and one per item"
    world.go_to(START + timedelta(days=DAYS))
    world.tick()
    assert _case(world, ref) is None and rows_left(world, before["id"]) == {}
    with world.session() as dbsession:
        assert shred_store_of(dbsession).keys(before["handles"]) == {}
    for path in stored_files(world):
        content = path.read_bytes()
        assert [c for c in ciphertexts if c in content] == [], f"{path.name} still holds the case"
    assert purge_plugin.PURGED == [(ref, "staff")]


# A legal hold placed while the tick is purging that very case, committed after the tick read it:
# the case must survive with its keys, never be shredded or deleted on the strength of that read.
def test_a_hold_committed_after_the_tick_read_the_case_stops_its_purge(sqlite_setup, monkeypatch):
    # SQLite has no row locks: the tick must take the write lock and read the case again. On
    # PostgreSQL the tick's FOR UPDATE makes the hold wait for the purge instead (and this test,
    # which places the hold from inside the tick, would wait for ever).
    setup = sqlite_setup
    world, headers = setup.world, setup.headers
    ref = submit_api(world.testapp, "staff", text="keep me")["case"]
    for to in ("acknowledged", "assessing"):
        world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {
        "to": "closed", "substantiated": "no", "changes": ["none"], "learned": "Nothing."}, headers=headers)
    before = _case(world, ref)
    world.go_to(before["delete_on"])
    headers = setup.headers
    real = records.due_for_deletion

    def hold_placed_meanwhile(case, channel):
        # The guardian's request, in its own transaction, committed just after the tick read the case.
        if not getattr(hold_placed_meanwhile, "done", False):
            hold_placed_meanwhile.done = True
            world.testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reason": "A claim is pending."},
                                    headers=headers, status=201)
        return real(case, channel)

    monkeypatch.setattr(records, "due_for_deletion", hold_placed_meanwhile)
    world.tick()

    after = _case(world, ref)
    assert after is not None, "a case on legal hold was purged"
    assert after["hold_since"] is not None
    with world.session() as dbsession:
        assert len(shred_store_of(dbsession).keys(before["handles"])) == len(before["handles"]), (
            "the held case's shred keys were destroyed")
        assert dbsession.scalars(select(Case).where(Case.ref == ref)).one().delete_on is None
