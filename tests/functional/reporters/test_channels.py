"""Channels from config/channels.toml: loaded, listed, validated with errors that name the spot."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import make_staff
from whistle.channels.models import Channel
from whistle.channels.services import ChannelConfigError, load_channels

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "channels.toml"


def shipped() -> list[dict]:
    return tomllib.loads(SHIPPED.read_text())["channel"]


def test_the_three_shipped_channels_load_and_are_listed(testapp, dbsession, settings, clock):
    results = load_channels(dbsession, shipped())
    assert results == [("raise-a-concern", "created"), ("young-peoples-voice", "created"),
                       ("ideas-for-improvement", "created")]
    listed = {c["slug"]: c for c in testapp.get("/api/v1/channels").json["channels"]}
    assert set(listed) == {"raise-a-concern", "young-peoples-voice", "ideas-for-improvement"}
    assert listed["young-peoples-voice"]["identity_modes"] == ["anonymous", "confidential"]
    about = next(f for f in listed["young-peoples-voice"]["fields"] if f["name"] == "about")
    assert about["type"] == "multiple_choice" and "Me" in about["choices"]
    assert not any(c["accepting_reports"] for c in listed.values()), "the file names no guardians"
    make_staff(dbsession, settings, clock, channels=["young-peoples-voice"])
    young = testapp.get("/report/young-peoples-voice")
    assert "What is worrying you?" in young.text and "grown-ups" in young.text


def test_loading_again_updates_by_slug_and_keeps_guardians(dbsession, settings, clock):
    load_channels(dbsession, shipped())
    make_staff(dbsession, settings, clock, channels=["raise-a-concern"])
    specs = shipped()
    specs[0]["title"] = "Raise a concern at work"
    assert load_channels(dbsession, specs)[0] == ("raise-a-concern", "updated")
    channel = dbsession.scalars(select(Channel).where(Channel.slug == "raise-a-concern")).one()
    assert channel.title == "Raise a concern at work"
    assert len(channel.memberships) == 1, "a file without guardians leaves them as they are"


def test_guardians_are_set_by_username(dbsession, settings, clock):
    make_staff(dbsession, settings, clock, username="fran")
    specs = shipped()
    specs[1]["guardians"] = ["fran"]
    load_channels(dbsession, specs)
    channel = dbsession.scalars(select(Channel).where(Channel.slug == "young-peoples-voice")).one()
    assert [m.account.username for m in channel.memberships] == ["fran"]
    specs[1]["guardians"] = ["nobody"]
    with pytest.raises(ChannelConfigError, match="channel 'young-peoples-voice', guardians: no account named 'nobody'"):
        load_channels(dbsession, specs)


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s[0]["fields"][0].update(type="essay"), "channel 'raise-a-concern', field 'where': type must be one of"),
    (lambda s: s[0]["fields"][2].pop("choices"), "channel 'raise-a-concern', field 'concern_type': a single_choice field needs a list of choices"),
    (lambda s: s[0]["fields"].append(dict(s[0]["fields"][0])), "channel 'raise-a-concern', field 'where': the name is used twice"),
    (lambda s: s[2].update(identity_modes=["secret"]), "channel 'ideas-for-improvement': identity_modes"),
    (lambda s: s[2].update(deadline_profile="never"), "channel 'ideas-for-improvement': unknown deadline_profile"),
    (lambda s: s[1].update(colour="red"), "channel 'young-peoples-voice': unknown key"),
    (lambda s: s[1].pop("title"), "channel 'young-peoples-voice': a title is required"),
])
def test_a_bad_definition_names_the_channel_and_field_and_changes_nothing(dbsession, change, message):
    specs = copy.deepcopy(shipped())
    change(specs)
    with pytest.raises(ChannelConfigError, match=message.replace("(", r"\(")):
        load_channels(dbsession, specs)
    assert dbsession.scalars(select(Channel)).all() == []
