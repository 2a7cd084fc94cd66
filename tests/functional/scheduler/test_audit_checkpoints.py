"""The tick's "audit checkpoint" job: a line in the checkpoint file and the log at most hourly,
while the chain grows; none at all once the head's MAC does not check out."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import update

from whistle.audit import record
from whistle.audit.checkpoints import read_checkpoint_file
from whistle.audit.models import AuditHead


def checkpoint_lines(world) -> list[str]:
    return [line for line in world.tick() if line.startswith("audit checkpoint")]


def add_event(world) -> None:
    with world.session() as dbsession:
        record(dbsession, world.clock, actor="system", action="test.event")


def test_the_tick_writes_a_checkpoint_at_most_hourly_to_the_file_and_the_log(world, caplog):
    world = world()
    path = world.ctx.settings.audit_checkpoint_file
    add_event(world)
    with caplog.at_level(logging.INFO, logger="whistle.audit"):
        [said] = checkpoint_lines(world)
    [line] = read_checkpoint_file(path)
    assert said == f"audit checkpoint: at event {line.checkpoint.seq}"
    assert line.checkpoint.mac_matches(world.ctx.settings.audit_key)
    # The log's line is the file's: numbers, a hash, a time and a MAC, nothing more.
    [logged] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audit checkpoint ")]
    assert logged == f"audit checkpoint {path.read_text().strip()}"
    assert set(json.loads(logged.removeprefix("audit checkpoint "))) == {"seq", "hash", "at", "mac"}

    add_event(world)
    world.clock.advance(timedelta(minutes=59))
    assert checkpoint_lines(world) == ["audit checkpoint: none due"]
    world.clock.advance(timedelta(minutes=1))
    assert checkpoint_lines(world) == [f"audit checkpoint: at event {line.checkpoint.seq + 1}"]
    world.clock.advance(timedelta(hours=2))
    assert checkpoint_lines(world) == ["audit checkpoint: none due"], "nothing new: no line"
    assert len(read_checkpoint_file(path)) == 2


def test_the_tick_writes_no_checkpoint_for_a_head_whose_mac_does_not_check_out(world, caplog):
    world = world()
    add_event(world)
    with world.session() as dbsession:
        dbsession.execute(update(AuditHead).where(AuditHead.id == 1).values(mac=bytes(32)))
    with caplog.at_level(logging.ERROR, logger="whistle.audit"):
        [said] = checkpoint_lines(world)
    assert said.startswith("audit checkpoint: not written: audit head MAC does not check out")
    assert any(r.getMessage().startswith("audit checkpoint not written: audit head MAC") for r in caplog.records)
    assert read_checkpoint_file(world.ctx.settings.audit_checkpoint_file) == []
