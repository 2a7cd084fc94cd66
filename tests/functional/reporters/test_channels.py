"""Channels from config/channels.toml: loaded, listed, validated with errors that name the spot."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import make_staff, shipped_profiles
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import ChannelConfigError, load_channels

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "channels.toml"


def shipped() -> list[dict]:
    return tomllib.loads(SHIPPED.read_text())["channel"]


def test_the_three_shipped_channels_load_and_are_listed(testapp, dbsession, settings, clock):
    results = load_channels(dbsession, shipped(), known_profiles=shipped_profiles())
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
    load_channels(dbsession, shipped(), known_profiles=shipped_profiles())
    make_staff(dbsession, settings, clock, channels=["raise-a-concern"])
    specs = shipped()
    specs[0]["title"] = "Raise a concern at work"
    assert load_channels(dbsession, specs, known_profiles=shipped_profiles())[0] == ("raise-a-concern", "updated")
    channel = dbsession.scalars(select(Channel).where(Channel.slug == "raise-a-concern")).one()
    assert channel.title == "Raise a concern at work"
    assert len(channel.memberships) == 1, "a file without guardians leaves them as they are"


def test_guardians_are_set_by_username(dbsession, settings, clock):
    make_staff(dbsession, settings, clock, username="fran")
    specs = shipped()
    specs[1]["guardians"] = ["fran"]
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    channel = dbsession.scalars(select(Channel).where(Channel.slug == "young-peoples-voice")).one()
    assert [m.account.username for m in channel.memberships] == ["fran"]
    specs[1]["guardians"] = ["nobody"]
    with pytest.raises(ChannelConfigError, match="channel 'young-peoples-voice', guardians: no account named 'nobody'"):
        load_channels(dbsession, specs, known_profiles=shipped_profiles())


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s[0]["fields"][0].update(type="essay"), "channel 'raise-a-concern', field 'where': type must be one of"),
    (lambda s: s[0]["fields"][2].pop("choices"), "channel 'raise-a-concern', field 'concern_type': a single_choice field needs a list of choices"),
    (lambda s: s[0]["fields"].append(dict(s[0]["fields"][0])), "channel 'raise-a-concern', field 'where': the name is used twice"),
    (lambda s: s[2].update(identity_modes=["secret"]), "channel 'ideas-for-improvement': identity_modes"),
    (lambda s: s[2].update(deadline_profile="never"), "channel 'ideas-for-improvement': unknown deadline_profile"),
    (lambda s: s[1].update(colour="red"), "channel 'young-peoples-voice': unknown key"),
    (lambda s: s[1].pop("title"), "channel 'young-peoples-voice': a title is required"),
    (lambda s: s[1].update(reporters_are_staff="no"), "channel 'young-peoples-voice': reporters_are_staff must be true or false"),
    (lambda s: s[2].update(board="yes"), "channel 'ideas-for-improvement': board must be true or false"),
    (lambda s: s[1]["help_now"].update(colour="red"), "channel 'young-peoples-voice': help_now takes only lines, title"),
    (lambda s: s[1]["help_now"].pop("title"), "channel 'young-peoples-voice': help_now needs a title"),
    (lambda s: s[1]["help_now"].update(lines=[]), "channel 'young-peoples-voice': help_now needs lines"),
    (lambda s: s[1]["help_now"]["lines"].append({"text": " "}), "channel 'young-peoples-voice', help_now line 4: the text is empty"),
    (lambda s: s[1]["help_now"]["lines"][0].update(link="javascript:alert(1)"), "channel 'young-peoples-voice', help_now line 1: link must start with"),
    (lambda s: s[1]["help_now"]["lines"][1].update(link="tel: 0800 1111"), "channel 'young-peoples-voice', help_now line 2: link must start with"),
    (lambda s: s[1].update(quick_exit="yes"), "channel 'young-peoples-voice': quick_exit must be true or false"),
    (lambda s: s[1].update(quick_exit_url="http://example.org/"), "channel 'young-peoples-voice': quick_exit_url must be a web address starting with https://"),
    (lambda s: s[0].update(quick_exit_url="https://example.org/"), "channel 'raise-a-concern': quick_exit_url is used only with quick_exit = true"),
])
def test_a_bad_definition_names_the_channel_and_field_and_changes_nothing(dbsession, change, message):
    specs = copy.deepcopy(shipped())
    change(specs)
    with pytest.raises(ChannelConfigError, match=message.replace("(", r"\(")):
        load_channels(dbsession, specs, known_profiles=shipped_profiles())
    assert dbsession.scalars(select(Channel)).all() == []


def test_who_reports_the_help_panel_and_the_quick_exit_are_loaded(dbsession):
    load_channels(dbsession, shipped(), known_profiles=shipped_profiles())
    channels = {c.slug: c for c in dbsession.scalars(select(Channel))}
    young, staff = channels["young-peoples-voice"], channels["raise-a-concern"]
    assert (young.reporters_are_staff, staff.reporters_are_staff) == (False, True)
    assert young.quick_exit_url == "https://www.bbc.co.uk/weather" and staff.quick_exit_url is None
    assert young.help_now["title"] == "Need help now?"
    assert {"text": "Talk to Childline: call 0800 1111. It is free, any time, day or night.",
            "link": "tel:08001111"} in young.help_now["lines"]
    assert staff.help_now == {}

    specs = shipped()
    specs[1].pop("translations")  # their help lines follow the English ones, changed here
    specs[1].update(quick_exit_url="https://example.org/news", reporters_are_staff=True)
    specs[1]["help_now"] = {"title": " Help ", "lines": ["Call someone you trust."]}
    specs[0]["quick_exit"] = True
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    assert (young.quick_exit_url, young.reporters_are_staff) == ("https://example.org/news", True)
    assert young.help_now == {"title": "Help", "lines": [{"text": "Call someone you trust."}]}
    assert staff.quick_exit_url == "https://www.bbc.co.uk/weather"
    specs[1].pop("help_now"), specs[1].pop("quick_exit"), specs[1].pop("quick_exit_url")
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    assert (young.help_now, young.quick_exit_url) == ({}, None), "the file says what the channel has"


def test_the_board_is_on_for_the_ideas_channel_only(dbsession):
    load_channels(dbsession, shipped(), known_profiles=shipped_profiles())
    channels = {c.slug: c.board for c in dbsession.scalars(select(Channel))}
    assert channels == {"raise-a-concern": False, "young-peoples-voice": False, "ideas-for-improvement": True}
