"""A channel's texts in other languages ([channel.translations.<code>]): checked when loaded, shown
on the reporters' pages of that language with the English for any text left out, while answers
keep their English (canonical) values for guardians and routing."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import holder_keys, html_login, make_staff, shipped_profiles
from tests.functional.reporters.helpers import receipt_of
from whistle.cases.models import Case
from whistle.cases.services import read_case
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import ChannelConfigError, ChannelText, describe, load_channels

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "channels.toml"
YOUNG, STAFF, IDEAS = "young-peoples-voice", "raise-a-concern", "ideas-for-improvement"


def shipped() -> list[dict]:
    return tomllib.loads(SHIPPED.read_text())["channel"]


@pytest.fixture
def channels(dbsession, settings, clock):
    load_channels(dbsession, shipped(), known_profiles=shipped_profiles())
    make_staff(dbsession, settings, clock, channels=[YOUNG, STAFF, IDEAS])
    return {c.slug: c for c in dbsession.scalars(select(Channel))}


# --- loading ---------------------------------------------------------------------------------------

def test_the_shipped_channels_have_every_text_in_welsh_polish_and_arabic(channels):
    for channel in channels.values():
        assert set(channel.translations) == {"cy", "pl", "ar"}, channel.slug
        for code, variant in channel.translations.items():
            assert variant["title"] and variant["introduction"], (channel.slug, code)
            assert set(variant.get("wording", {})) == {"text_label", "text_help"} & set(channel.wording), \
                (channel.slug, code)
            if channel.help_now:
                assert variant["help_now"]["title"]
                assert len(variant["help_now"]["lines"]) == len(channel.help_now["lines"])
            for spec in channel.questionnaire:
                field = variant["fields"][spec["name"]]
                assert field["label"], (channel.slug, code, spec["name"])
                assert ("help" in field) == ("help" in spec), (channel.slug, code, spec["name"])
                assert len(field.get("choices", [])) == len(spec.get("choices", [])), (channel.slug, code)


def test_the_translations_are_stored_as_given_with_help_lines_as_texts(channels):
    young = channels[YOUNG].translations["cy"]
    assert young["title"] == "Llais pobl ifanc"
    assert young["help_now"]["lines"][0] == "Os ydych chi mewn perygl nawr, ffoniwch 999."
    assert young["fields"]["about"]["choices"][0] == "Fi"


def test_loading_again_replaces_a_channels_translations(dbsession, channels):
    specs = shipped()
    specs[0]["translations"] = {"pl": {"title": "Zgłoś sprawę"}}
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    assert channels[STAFF].translations == {"pl": {"title": "Zgłoś sprawę"}}
    specs[0].pop("translations")
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    assert channels[STAFF].translations == {}


def _young(specs):
    return specs[1]["translations"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s[1].update(translations=["cy"]), "channel 'young-peoples-voice': translations must be tables"),
    (lambda s: _young(s).update(en={"title": "Again"}),
     "channel 'young-peoples-voice': translations.en: not a language whistle ships (one of cy, pl, ar)"),
    (lambda s: _young(s).update(fr={"title": "Voix"}),
     "channel 'young-peoples-voice': translations.fr: not a language"),
    (lambda s: _young(s)["cy"].update(colour="coch"),
     "channel 'young-peoples-voice', translations.cy: unknown key(s) colour"),
    (lambda s: _young(s)["cy"].update(identity_modes=["open"]),
     "channel 'young-peoples-voice', translations.cy: unknown key(s) identity_modes"),
    (lambda s: _young(s)["pl"].update(title=" "),
     "channel 'young-peoples-voice', translations.pl.title: expected a text"),
    (lambda s: _young(s)["pl"].update(introduction=3),
     "channel 'young-peoples-voice', translations.pl.introduction: expected a text"),
    (lambda s: _young(s)["cy"]["wording"].update(plain=False),
     "channel 'young-peoples-voice', translations.cy.wording: unknown key(s) plain"),
    (lambda s: _young(s)["cy"]["wording"].update(text_help=""),
     "channel 'young-peoples-voice', translations.cy.wording.text_help: expected a text"),
    (lambda s: _young(s)["ar"]["fields"].update(colour={"label": "لون"}),
     "channel 'young-peoples-voice', translations.ar.fields: unknown key(s) colour"),
    (lambda s: _young(s)["ar"]["fields"]["about"].update(type="text"),
     "channel 'young-peoples-voice', translations.ar.fields.about: unknown key(s) type"),
    (lambda s: _young(s)["cy"]["fields"]["about"].update(label=""),
     "channel 'young-peoples-voice', translations.cy.fields.about.label: expected a text"),
    (lambda s: _young(s)["cy"]["fields"]["about"]["choices"].pop(),
     "channel 'young-peoples-voice', translations.cy.fields.about.choices: give 4 choices, as many as in English"),
    (lambda s: _young(s)["cy"]["fields"]["about"].update(choices=["Fi", "Fi", "Oedolyn", "Dim"]),
     "channel 'young-peoples-voice', translations.cy.fields.about.choices: a choice is listed twice"),
    (lambda s: _young(s)["cy"]["fields"]["happening_now"].update(choices=["Ydy", "Nac ydy"]),
     "channel 'young-peoples-voice', translations.cy.fields.happening_now.choices: only choice fields take choices"),
    (lambda s: _young(s)["pl"]["help_now"]["lines"].pop(),
     "channel 'young-peoples-voice', translations.pl.help_now.lines: give 3 lines, as many as in English"),
    (lambda s: _young(s)["pl"]["help_now"].update(colour="red"),
     "channel 'young-peoples-voice', translations.pl.help_now: unknown key(s) colour"),
    (lambda s: _young(s)["pl"]["help_now"]["lines"].__setitem__(0, {"text": "Zadzwoń", "link": "tel:112"}),
     "channel 'young-peoples-voice', translations.pl.help_now, line 1: the link must be the English line's (tel:999)"),
    (lambda s: _young(s)["pl"]["help_now"]["lines"].__setitem__(1, {"text": "Zadzwoń", "colour": "red"}),
     "channel 'young-peoples-voice', translations.pl.help_now, line 2: unknown key(s) colour"),
    (lambda s: s[0]["translations"]["cy"].update(help_now={"title": "Help"}),
     "channel 'raise-a-concern', translations.cy.help_now: the channel has no help_now panel in English"),
])
def test_a_bad_translation_names_the_channel_language_and_key_and_changes_nothing(dbsession, change, message):
    specs = copy.deepcopy(shipped())
    change(specs)
    with pytest.raises(ChannelConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_channels(dbsession, specs, known_profiles=shipped_profiles())
    assert dbsession.scalars(select(Channel)).all() == []


def test_a_help_line_may_repeat_its_english_link(dbsession):
    specs = shipped()
    _young(specs)["cy"]["help_now"]["lines"][0] = {"text": "Ffoniwch 999.", "link": "tel:999"}
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    young = dbsession.scalars(select(Channel).where(Channel.slug == YOUNG)).one()
    assert young.translations["cy"]["help_now"]["lines"][0] == "Ffoniwch 999."


# --- what reporters see ------------------------------------------------------------------------------

def test_the_home_page_lists_the_channels_in_welsh(testapp, channels):
    home = testapp.get("/cy/")
    titles = [a.get_text(strip=True) for a in home.html.select("ul.channels a")]
    assert sorted(titles) == sorted(["Codi pryder", "Llais pobl ifanc", "Syniadau i wella"])
    assert all(a["href"].startswith("/cy/report/") for a in home.html.select("ul.channels a"))
    assert "Does dim rhaid i chi ddweud pwy ydych chi." in home.text
    english = testapp.get("/")
    assert "Raise a concern" in english.text and "Codi pryder" not in english.text


def test_the_welsh_form_shows_welsh_texts_and_sends_the_english_choices(testapp, dbsession, channels):
    page = testapp.get(f"/cy/report/{YOUNG}")
    assert page.html.find("h1").get_text(strip=True) == "Llais pobl ifanc"
    assert "Llais pobl ifanc" in page.html.find("title").get_text()
    assert page.html.find("label", attrs={"for": "text"}).get_text(strip=True) == "Beth sy'n eich poeni?"
    about = page.html.find(id="field-answers.about")
    assert about.find("legend").get_text(" ", strip=True).startswith("Am bwy mae e?")
    assert about.find("p", class_="help").get_text(strip=True) == "Dewiswch gymaint ag y mynnwch."
    boxes = about.find_all("input", attrs={"name": "answers.about"})
    assert [box["value"] for box in boxes] == ["Me", "Another young person", "A grown-up", "I'd rather not say"]
    assert [box.parent.get_text(strip=True) for box in boxes] == [
        "Fi", "Person ifanc arall", "Oedolyn", "Byddai'n well gen i beidio â dweud"]
    panel = page.html.find("aside", class_="help-now")
    assert panel.find("h2").get_text(strip=True) == "Angen help nawr?"
    assert panel.find("a", href="tel:999").get_text(strip=True) == "Os ydych chi mewn perygl nawr, ffoniwch 999."

    form = page.forms[0]
    form["text"] = "Mae rhywun yn gweiddi arnom ni."
    form["answers.about"] = ["Me", "A grown-up"]
    form["answers.happening_now"] = "yes"
    receipt_page = form.submit(status=303).follow(status=200)
    assert receipt_page.request.path == f"/cy/report/{YOUNG}/receipt"
    assert receipt_page.html.find("aside", class_="help-now").find("h2").get_text(strip=True) == "Angen help nawr?"

    case = dbsession.scalars(select(Case)).one()
    content = read_case(case, holder_keys(dbsession, case))
    assert content.answers["about"] == ["Me", "A grown-up"], "stored in the English choices, for the guardians"
    assert content.answers["happening_now"] == "yes"

    # The mailbox, reached in Welsh, shows the questions and the answers in Welsh.
    sign_in = testapp.get("/cy/mailbox")
    sign_in.forms[0]["receipt"] = receipt_of(receipt_page)
    mailbox = sign_in.forms[0].submit().maybe_follow()
    sent = mailbox.html.find(id="what-you-sent")
    assert [dt.get_text() for dt in sent.find_all("dt")] == ["Ydy e'n dal i ddigwydd?", "Am bwy mae e?"]
    assert sent.find_all("dd")[1].get_text() == "Fi, Oedolyn"
    assert mailbox.html.find("aside", class_="help-now").find("h2").get_text(strip=True) == "Angen help nawr?"


def test_a_channel_nobody_attends_is_named_in_welsh_where_it_is_closed(testapp, dbsession):
    load_channels(dbsession, shipped(), known_profiles=shipped_profiles())  # no guardians: not live
    closed = testapp.get(f"/cy/report/{YOUNG}")
    assert closed.html.find("h1").get_text(strip=True) == "Llais pobl ifanc"
    home = testapp.get("/cy/")
    assert "Syniadau i wella" in home.text and "Ideas for improvement" not in home.text


def test_a_text_with_no_variant_shows_in_english(testapp, dbsession, channels):
    specs = shipped()
    del _young(specs)["cy"]["introduction"]
    del _young(specs)["cy"]["fields"]["about"]["choices"]
    del _young(specs)["cy"]["help_now"]["title"]
    del _young(specs)["cy"]["wording"]["text_help"]
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    page = testapp.get(f"/cy/report/{YOUNG}")
    assert page.html.find("h1").get_text(strip=True) == "Llais pobl ifanc"
    words = page.html.get_text()
    assert "You don't have to say who you are." in words
    assert "Tell us in your own words." in words and "Beth sy'n eich poeni?" in words
    about = page.html.find(id="field-answers.about")
    assert about.find("legend").get_text(" ", strip=True).startswith("Am bwy mae e?")
    assert [box.parent.get_text(strip=True) for box in about.find_all("input")] == [
        "Me", "Another young person", "A grown-up", "I'd rather not say"]
    panel = page.html.find("aside", class_="help-now")
    assert panel.find("h2").get_text(strip=True) == "Need help now?"
    assert panel.find("a", href="tel:999").get_text(strip=True) == "Os ydych chi mewn perygl nawr, ffoniwch 999."


def test_a_language_with_no_variant_shows_the_english(testapp, dbsession, channels):
    specs = shipped()
    specs[1]["translations"].pop("pl")
    load_channels(dbsession, specs, known_profiles=shipped_profiles())
    page = testapp.get(f"/pl/report/{YOUNG}")
    assert page.html.find("h1").get_text(strip=True) == "Young people's voice"
    assert "Arabic" not in page.text and "Llais" not in page.text


def test_an_error_keeps_the_translated_form(testapp, channels):
    page = testapp.get(f"/ar/report/{STAFF}")
    form = page.forms[0]
    form["text"] = ""
    again = form.submit(status="4*")
    assert again.html.find("h1").get_text(strip=True) == "الإبلاغ عن مخاوف"
    concern = again.html.find(id="field-answers.concern_type")
    assert concern.find("input")["value"] == "Patient or client safety"
    assert concern.find("input").parent.get_text(strip=True) == "سلامة المرضى أو العملاء"


def test_the_api_answers_in_english_and_lists_the_variants(testapp, channels):
    listed = {c["slug"]: c for c in testapp.get("/cy/api/v1/channels").json["channels"]}
    assert listed[YOUNG]["title"] == "Young people's voice"
    assert listed[YOUNG]["translations"]["cy"]["title"] == "Llais pobl ifanc"
    assert describe(channels[YOUNG])["translations"]["ar"]["fields"]["about"]["choices"][3] == "أفضّل ألّا أقول"


def test_the_admins_channels_page_keeps_the_english_in_welsh_too(testapp, dbsession, settings, clock, channels):
    html_login(testapp, make_staff(dbsession, settings, clock, username="ada", admin=True, guardian=False), clock)
    page = testapp.get("/cy/admin/channels")
    assert "Young people&#39;s voice" in page.text and "Llais pobl ifanc" not in page.text


def test_a_channel_text_is_the_channel_for_everything_else(channels):
    shown = ChannelText(channels[YOUNG], "pl")
    assert shown.title == "Głos młodych" and shown.slug == YOUNG
    assert shown.quick_exit_url == channels[YOUNG].quick_exit_url
    assert shown.wording["plain"] is True, "plain comes from the English definition"
    assert ChannelText(channels[YOUNG], "en").title == "Young people's voice"
    assert channels[YOUNG].title == "Young people's voice", "the channel itself is not changed"


def test_a_guardian_sees_the_english_questions_and_answers_of_a_report_sent_in_polish(
        testapp, dbsession, settings, clock):
    load_channels(dbsession, shipped(), known_profiles=shipped_profiles())
    guardian = make_staff(dbsession, settings, clock, username="gwen", channels=[STAFF])
    form = testapp.get(f"/pl/report/{STAFF}").forms[0]
    form["text"] = "Drzwi ewakuacyjne są zamknięte na łańcuch."
    form["answers.ongoing"] = "yes"
    form["answers.concern_type"] = "Worker safety or wellbeing"
    form.submit(status=303)
    case = dbsession.scalars(select(Case)).one()

    html_login(testapp, guardian, clock)
    page = testapp.get(f"/pl/staff/cases/{case.ref}")
    answers = page.html.find("dl", class_="answers")
    assert [(dt.get_text(), dt.find_next("dd").get_text()) for dt in answers.find_all("dt")] == [
        ("Is it still happening?", "yes"), ("What is it about?", "Worker safety or wellbeing")]
