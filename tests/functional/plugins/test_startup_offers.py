"""What plugins offer at start-up: deadline profiles used by intake, notification channels, and loading channels."""
from __future__ import annotations


from sqlalchemy import select

from tests.factories import api_login, make_channel, make_live_channel, make_staff, sign_directory
from whistle.cases.models import Case
from whistle.intake_channels.models import TIER_SECOND, Channel, ChannelGuardian
from whistle.intake_channels.services import ChannelConfigError, load_channels
from whistle_uk_childrens_complaints.working_days import add_working_days

import pytest


def test_a_channel_on_the_uk_profile_gets_working_day_deadlines_when_the_plugin_is_enabled(
        plugin_app, dbsession, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "uk.guardian")
    channel = make_channel(dbsession, "children-complaints", deadline_profile="uk_childrens_complaints")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=guardian.account.id))
    sign_directory(dbsession, settings, clock)
    app = plugin_app(["uk_childrens_complaints"])  # whistle_deadline_profiles needs no plaintext
    assert "uk_childrens_complaints" in app.app.registry.deadline_profiles

    ref = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "My complaint.",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    today = clock.today()
    assert case.ack_due == add_working_days(today, 10)
    assert case.feedback_due == add_working_days(add_working_days(today, 10), 25)
    # Acknowledging recomputes the feedback date with the same (plugin's) profile.
    app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "acknowledged"}, headers=api_login(app, guardian, clock))
    dbsession.refresh(case)
    assert case.feedback_due == add_working_days(clock.today(), 25)


def test_without_the_plugin_the_same_channel_falls_back_to_the_eu_profile(plugin_app, dbsession, clock, settings):
    make_live_channel(dbsession, settings, clock, "children-fallback", deadline_profile="uk_childrens_complaints")
    app = plugin_app(["eu_directive"])
    ref = app.post_json("/api/v1/disclosures", {"channel": "children-fallback", "text": "x",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    assert (case.ack_due - clock.today()).days == 7


def test_enabling_the_smtp_or_webhook_plugin_exposes_its_notification_channel(plugin_app):
    import whistle_smtp
    import whistle_webhook

    assert plugin_app([]).app.registry.notification_channels == {}
    saved = dict(whistle_smtp.CONFIG), dict(whistle_webhook.CONFIG)
    whistle_smtp.CONFIG.update(host="smtp.example.org", port=587, from_address="speak-up@example.org")
    whistle_webhook.CONFIG.update(secret="s" * 32)
    try:
        channels = plugin_app(["smtp", "webhook"]).app.registry.notification_channels
    finally:
        for config, old in zip((whistle_smtp.CONFIG, whistle_webhook.CONFIG), saved):
            config.clear()
            config.update(old)
    assert set(channels) == {"email", "webhook"}
    assert all(callable(channel.deliver) for channel in channels.values())


def test_channels_load_takes_second_tier_guardians_and_plugin_profiles(dbsession, settings, clock):
    first = make_staff(dbsession, settings, clock, "load.first").account
    second = make_staff(dbsession, settings, clock, "load.second").account
    spec = {"slug": "loaded-tiers", "title": "Tiers", "guardians": ["load.first"],
            "second_tier_guardians": ["load.second"], "deadline_profile": "uk_childrens_complaints"}
    with pytest.raises(ChannelConfigError, match="a plugin's profile is known when the plugin is enabled"):
        load_channels(dbsession, [spec])
    load_channels(dbsession, [spec], known_profiles={"eu_directive": None, "uk_childrens_complaints": None})
    channel = dbsession.scalars(select(Channel).where(Channel.slug == "loaded-tiers")).one()
    assert {(m.account_id, m.tier) for m in channel.memberships} == {(first.id, 1), (second.id, TIER_SECOND)}
    with pytest.raises(ChannelConfigError, match="listed twice"):
        load_channels(dbsession, [dict(spec, second_tier_guardians=["load.first"], deadline_profile="eu_directive")])


def test_plugin_intake_fields_join_the_form_its_validation_and_the_api(plugin_app, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock, "with-site")
    app = plugin_app(["tests.plugins.sample_plugins"])  # whistle_intake_fields adds "site"
    described = {c["slug"]: c for c in app.get("/api/v1/channels").json["channels"]}["with-site"]
    assert described["fields"][-1] == {"name": "site", "label": "Which site?", "type": "text", "required": False,
                                       "routing": False}
    assert 'name="answers.site"' in app.get("/report/with-site").text
    app.post_json("/api/v1/disclosures", {"channel": "with-site", "text": "x",
                                          "answers": {"ongoing": "yes", "site": "North"}}, status=201)
    # Without the plugin the same answer is refused: the field is the plugin's.
    problem = plugin_app([]).post_json("/api/v1/disclosures", {"channel": "with-site", "text": "x",
                                                               "answers": {"ongoing": "yes", "site": "North"}},
                                       status=422).json
    assert "answers.site" in str(problem)
