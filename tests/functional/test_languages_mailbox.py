"""The reporter's mailbox, its withdrawal page and the "you said, we did" board in Welsh and Arabic:
the page's own words, a form error re-rendered, and the news, all in the address's language."""
from __future__ import annotations

from tests.factories import make_channel, make_staff
from tests.functional.reporters.helpers import receipt_of, submit_disclosure


def open_mailbox(testapp, code: str, receipt: str):
    """The receipt form at /<code>/mailbox, sent as a browser without JavaScript sends it."""
    form = testapp.get(f"/{code}/mailbox").forms["receipt-form"]
    form["receipt"] = receipt
    return form.submit().follow()


def test_the_mailbox_reads_in_welsh_and_refuses_an_empty_message_in_welsh(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])  # an open channel has someone to read it
    receipt = receipt_of(submit_disclosure(testapp))
    page = open_mailbox(testapp, "cy", receipt)
    assert page.request.path == "/cy/mailbox/case"
    text = page.html.find(id="main").get_text(" ", strip=True)
    for welsh in ("Eich adroddiad", "Beth sy'n newydd", "Dim byd newydd ers i chi anfon eich adroddiad",
                  "Anfon yn ddiogel", "Tynnu eich adroddiad yn ôl", "Beth anfonoch chi"):
        assert welsh in text, welsh
    for english in ("Your report", "What is new", "Send securely", "Withdraw your report", "What you sent"):
        assert english not in text, english
    assert page.forms["message-form"].action == "/cy/mailbox/case/messages"

    refused = page.forms["message-form"].submit(status=422)
    error = refused.html.find(id="error-text").get_text(strip=True)
    assert error == "Ysgrifennwch eich neges yma cyn ei hanfon."

    withdraw = refused.click(href="/cy/mailbox/case/withdraw")
    warning = withdraw.html.find(id="withdraw-warning").get_text(" ", strip=True)
    assert "Beth mae tynnu'n ôl yn ei olygu" in warning and "What withdrawing means" not in warning
    refused = withdraw.forms["withdraw-form"].submit(status=422)
    assert refused.html.find(id="error-confirm").get_text(strip=True) == \
        "Ticiwch y blwch i gadarnhau eich bod eisiau tynnu eich adroddiad yn ôl."


def test_the_mailbox_and_the_board_read_in_arabic(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])  # an open channel has someone to read it
    receipt = receipt_of(submit_disclosure(testapp))
    login = testapp.get("/ar/mailbox")
    assert "العودة إلى بلاغك" in login.text and "Come back to your report" not in login.html.find(id="main").text
    wrong = login.forms["receipt-form"]
    wrong["receipt"] = "AAAA-AAAA-AAAA-AAAA-AAAA"
    refused = wrong.submit(status=401)
    assert refused.html.find(id="error-receipt").get_text(strip=True) == \
        "لم نتمكن من فتح بلاغ بهذا الإيصال. تحقق من كل حرف وحاول مرة أخرى."

    page = open_mailbox(testapp, "ar", receipt)
    text = page.html.find(id="main").get_text(" ", strip=True)
    for arabic in ("بلاغك", "الرسائل", "لا رسائل بعد. سيكتب هنا الأشخاص الذين يتولّون بلاغك.", "وصل بلاغك."):
        assert arabic in text, arabic
    for english in ("Messages", "No messages yet", "Your report has arrived", "Where things are"):
        assert english not in text, english

    board = testapp.get("/ar/board")
    assert "لم يُنشر شيء هنا بعد." in board.text and "Nothing has been published here yet." not in board.text


def test_the_english_mailbox_is_unchanged(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])  # an open channel has someone to read it
    receipt = receipt_of(submit_disclosure(testapp))
    form = testapp.get("/mailbox").forms["receipt-form"]
    form["receipt"] = receipt
    page = form.submit().follow()
    text = page.html.find(id="main").get_text(" ", strip=True)
    for english in ("Your report", "What is new", "Send securely", "Withdraw your report", "What you sent",
                    "Your report has arrived. Nobody has confirmed reading it yet."):
        assert english in text, english


def test_the_api_gives_the_news_in_the_language_of_its_address_and_everything_else_in_english(
        testapp, dbsession, settings, clock):
    """The mailbox on the device asks under its page's prefix, so its reporter reads the news in the
    page's language; a program asking without a prefix gets English, and problems stay English."""
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    receipt = receipt_of(submit_disclosure(testapp))
    testapp.reset()
    token = testapp.post_json("/cy/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    welsh = testapp.get("/cy/api/v1/reporter/case", headers=bearer).json["news"]
    english = testapp.get("/api/v1/reporter/case", headers=bearer).json["news"]
    assert any("Dim byd newydd ers i chi anfon eich adroddiad" in line for line in welsh["summary"]), welsh
    assert any(line.startswith("Nothing new since") for line in english["summary"]), english  # a second visit now
    assert welsh["check_back"]["text"] and welsh["check_back"]["text"] != english["check_back"]["text"]
    assert welsh["since"] == english["since"] and welsh["status"] == english["status"]  # the data is the data

    refused = testapp.get("/cy/api/v1/reporter/case", status=401)
    assert refused.json["title"] == "Unauthorized"
