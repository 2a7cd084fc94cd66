"""A "you said, we did" entry outlives its case (the board is the organisation's own words); once
the case is purged no guardian page reaches the entry, so the operator's `whistle board remove`
takes it down, audited."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.factories import make_channel
from whistle.audit.models import AuditEvent
from whistle.board.models import BoardEntry
from whistle.cli import main as whistle_main


def test_an_entry_whose_case_is_gone_is_listed_and_removed_by_the_operator(world, tmp_path, capsys):
    built = world()
    with built.session() as dbsession:
        channel = make_channel(dbsession, "ideas")
        dbsession.flush()
        dbsession.add(BoardEntry(channel_id=channel.id, case_id=None, account_id=None, title="Dimmable lights",
                                 you_said="Corridor lights kept patients awake.", we_did="We fitted dimmers.",
                                 published_on=date(2027, 3, 1)))
    ini = tmp_path / "whistle.ini"
    raw = {key: value for key, value in built.testapp.app.registry.settings.items() if key.startswith("whistle.")}
    ini.write_text("[app:main]\n" + "".join(f"{key} = {value}\n" for key, value in raw.items()))
    assert "Dimmable lights" in built.testapp.get("/board").text

    capsys.readouterr()
    assert whistle_main(["-c", str(ini), "board", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    entry_id, _, about, title = line.split("\t")
    assert (about, title) == ("its case is deleted", "Dimmable lights")

    assert whistle_main(["-c", str(ini), "board", "remove", "999999"]) == 1
    assert "there is no board entry" in capsys.readouterr().err
    assert whistle_main(["-c", str(ini), "board", "remove", entry_id]) == 0
    assert "Dimmable lights" not in built.testapp.get("/board").text
    with built.session() as dbsession:
        assert dbsession.scalars(select(BoardEntry)).all() == []
        [event] = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "board.unpublished")).all()
        assert (event.actor, event.detail) == ("system", {"entry_id": int(entry_id)})
