"""The reporter's way in, in Welsh and Arabic: the start page, the report form, the form sent back
with an error, the receipt and an error page speak the address's language, and none of their own
English is left on them (a channel's own title and questions are the channel's words)."""
from __future__ import annotations

import pytest

from tests.factories import make_live_channel
from tests.functional import test_limits

# Per language: (words the page must show, the English they stand for, which must not be there).
WORDS = {
    "cy": {
        "home": (["Dywedwch wrthym beth sy'n eich poeni", "Dewch yn ôl at eich adroddiad"],
                 ["Tell us what worries you", "Come back to your report"]),
        "form": (["Beth rydym yn ei addo", "Beth ddigwyddodd?", "Anfon yn ddiogel", "(dewisol)"],
                 ["What we promise", "What happened?", "Send securely", "(optional)"]),
        "error": (["Gwiriwch y ffurflen", "Dywedwch wrthym beth ddigwyddodd: ni all y blwch hwn fod yn wag."],
                  ["Please check the form", "Tell us what happened"]),
        "receipt": (["Cadwch eich derbynneb yn ddiogel", "Gadael", "Bydd rhywun yn cydnabod eich pryder erbyn"],
                    ["Keep your receipt safe", "shown only this once", "acknowledge your concern"]),
        "missing": (["Does dim byd yn y cyfeiriad hwn.", "Ewch i'r dudalen gyntaf"],
                    ["There is nothing at this address.", "Go to the start page"]),
    },
    "ar": {
        "home": (["أخبرنا بما يقلقك", "العودة إلى بلاغك"], ["Tell us what worries you", "Come back to your report"]),
        "form": (["ما نعد به", "ماذا حدث؟", "إرسال آمن", "(اختياري)"],
                 ["What we promise", "What happened?", "Send securely", "(optional)"]),
        "error": (["يُرجى مراجعة النموذج", "أخبرنا بما حدث: لا يمكن أن يبقى هذا المربع فارغًا."],
                  ["Please check the form", "Tell us what happened"]),
        "receipt": (["احفظ إيصالك في مكان آمن", "مغادرة", "سيؤكد أحدهم استلام بلاغك قبل"],
                    ["Keep your receipt safe", "shown only this once", "acknowledge your concern"]),
        "missing": (["لا يوجد شيء في هذا العنوان.", "انتقل إلى صفحة البداية"],
                    ["There is nothing at this address.", "Go to the start page"]),
    },
}


# The rate-limited app of the limits' tests, its requests from one address.
limited, fresh_hour = test_limits.limited, test_limits.fresh_hour


@pytest.fixture
def channel(dbsession, settings, clock):
    return make_live_channel(dbsession, settings, clock, "staff", title="Raise a concern")


def says(page, code: str, which: str) -> None:
    shown, english = WORDS[code][which]
    text = page.html.find("main").get_text(" ", strip=True)
    for words in shown:
        assert words in text, f"{which} in {code}: {words!r} missing"
    for words in english:
        assert words not in text, f"{which} in {code}: English {words!r} left"


@pytest.mark.parametrize("code", ["cy", "ar"])
def test_the_way_to_report_speaks_the_language_of_its_address(testapp, channel, code):
    says(testapp.get(f"/{code}/", status=200), code, "home")
    page = testapp.get(f"/{code}/report/staff", status=200)
    says(page, code, "form")

    form = page.forms["disclosure-form"]
    form["text"] = "   "
    again = form.submit(status=422)
    says(again, code, "error")

    form = again.forms["disclosure-form"]
    form["text"] = "Medicines are left unlocked on ward 7."
    form["answers.ongoing"] = "no"
    sent = form.submit(status=303)
    assert sent.location.endswith(f"/{code}/report/staff/receipt")  # the receipt page keeps the language
    says(sent.follow(status=200), code, "receipt")

    says(testapp.get(f"/{code}/no-such-page", status=404), code, "missing")


def test_the_english_pages_keep_their_words(testapp, channel):
    page = testapp.get("/report/staff", status=200)
    text = page.html.find("main").get_text(" ", strip=True)
    assert "What we promise" in text and "Send securely" in text
    form = page.forms["disclosure-form"]
    form["text"] = "   "
    assert "Tell us what happened: this box cannot be empty." in form.submit(status=422).text


@pytest.mark.usefixtures("within_one_hour")
def test_too_many_reports_says_how_long_to_wait_in_the_language_of_the_address(limited, channel):
    client = limited(**{"whistle.intake.reports_per_client": 1})("203.0.113.77")

    def report_form():
        form = client.get("/pl/report/staff").forms["disclosure-form"]
        form["text"] = "Słowa, których nie mogę stracić."
        form["answers.ongoing"] = "yes"
        return form

    report_form().submit(status=303)
    page = report_form().submit(status=429)
    summary = page.html.find(class_="error-summary").get_text(" ", strip=True)
    assert "spróbuj ponownie za 10 minut." in summary  # Polish: "minut" for 10, "minuty" for 2, "minutę" for 1
    assert "Too many reports" not in summary and "minutes" not in summary
