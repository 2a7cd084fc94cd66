"""The guardian's pages in Welsh and Arabic: the case page (and a refused form on it), the inbox,
the learning report and the staff navigation say their own words in the address's language."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import api_login, html_login, submit_api
from whistle.cases.models import Case


def test_the_case_page_and_a_refused_reply_are_in_welsh(testapp, guardian, clock):
    ref = submit_api(testapp, text="Broken rota")["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/cy/staff/cases/{ref}")
    assert "Sgwrs gyda'r adroddwr" in page.text and "Anfon ateb" in page.text
    assert "Conversation with the reporter" not in page.text and "Send reply" not in page.text
    assert "Allgofnodi" in page.html.select_one("nav.staff").get_text()
    refused = page.forms["reply-form"].submit(status=422)
    assert "Ni chafodd hynny ei wneud" in refused.text and "ysgrifennwch rywbeth yn gyntaf." in refused.text
    assert "That was not done" not in refused.text and "Write something first" not in refused.text
    assert refused.forms["reply-form"].action == f"/cy/staff/cases/{ref}/messages"


def test_a_closed_case_and_the_inbox_are_in_arabic(testapp, guardian, clock):
    ref = submit_api(testapp, text="Broken rota")["case"]
    headers = api_login(testapp, guardian, clock)
    for to in ("acknowledged", "assessing"):
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    testapp.post_json(f"/api/v1/cases/{ref}/transitions",
                      {"to": "closed", "substantiated": "partly", "changes": ["staffing"], "learned": "Rotas.",
                       "factors": ["communication"]}, headers=headers)
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/ar/staff/cases/{ref}")
    assert "العوامل المساهمة" in page.text and "التواصل" in page.text  # Contributory factors: Communication
    assert "Contributory factors" not in page.text and "Communication" not in page.text
    inbox = testapp.get("/ar/staff/cases")
    assert "حالاتك" in inbox.text and "الموعد النهائي القادم" in inbox.text
    assert "Your cases" not in inbox.text and "Next deadline" not in inbox.text


def test_the_learning_report_is_in_welsh_and_unchanged_in_english(testapp, guardian, clock):
    html_login(testapp, guardian, clock)
    welsh = testapp.get("/cy/staff/learning/report")
    assert "Adroddiad dysgu" in welsh.text and "Themâu ar draws pob achos sydd wedi cau" in welsh.text
    assert "Themes across every closed case" not in welsh.text
    english = testapp.get("/staff/learning/report")
    assert "Themes across every closed case" in english.text and "Adroddiad dysgu" not in english.text


def test_a_refused_surge_form_is_in_arabic(testapp, dbsession, clock, guardian):
    ref = submit_api(testapp)["case"]
    day = clock.today()
    for case in dbsession.scalars(select(Case).where(Case.ref == ref)):
        case.surge_day = day
    dbsession.flush()
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/ar/staff/surges/{day.isoformat()}").forms["surge-form"]
    form.fields["cases"][0].checked = False
    page = form.submit(status=422)
    assert "الحالات المراد إغلاقها: ضع علامة على حالة واحدة على الأقل لإغلاقها." in page.text
    assert "أغلق هذه كبلاغات عبثية" in page.text  # Close these as junk
    assert "Tick at least one case" not in page.text and "Close these as junk" not in page.text


def test_the_reason_for_closing_as_junk_is_in_welsh_in_its_sentence(testapp, dbsession, clock, guardian):
    """A label put into a translated sentence ({% trans reason=... %}) is translated first: the
    surge's confirm step and the inbox's mark on a case closed as junk."""
    refs = [submit_api(testapp, text=f"junk {i}")["case"] for i in range(2)]
    day = clock.today()
    for case in dbsession.scalars(select(Case).where(Case.ref.in_(refs))):
        case.surge_day = day
    dbsession.flush()
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/cy/staff/surges/{day.isoformat()}").forms["surge-form"]
    form["reason"] = "spam"
    confirm = form.submit(status=200)
    assert "Rheswm: Hysbysebu neu sbam." in confirm.text and "Advertising or spam" not in confirm.text
    confirm.forms["surge-confirm"].submit(status=303)
    inbox = testapp.get("/cy/staff/cases")
    assert inbox.text.count("Wedi cau fel sbwriel: hysbysebu neu sbam") == 2
    assert "advertising or spam" not in inbox.text
