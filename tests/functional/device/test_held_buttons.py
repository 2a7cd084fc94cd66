"""In device mode the case page and the password page render the buttons of forms that would carry
plaintext disabled: only the page's script, once it has taken the form over, enables them, so a
form sent before the script runs (or without it) posts nothing in the clear. Server-assisted pages
are as they always were."""
from __future__ import annotations

from tests.factories import device_login, html_login

def _buttons(page) -> dict[str, bool]:
    """Each submit button's words, and whether it is held (disabled until the script runs)."""
    return {button.get_text(strip=True): button.has_attr("disabled") and button.has_attr("data-device-held")
            for button in page.html.find_all("button", attrs={"type": "submit"})}


def test_device_pages_hold_the_buttons_of_forms_that_carry_plaintext(testapp, dbsession, settings, clock, guardian,
                                                                   submitted):
    device_login(testapp, dbsession, settings, clock, guardian)
    case = _buttons(testapp.get(f"/staff/cases/{submitted['case']}"))
    assert {words for words, held in case.items() if held} == {"Send reply", "Send file", "Add note",
                                                                 "Add internal file", "Grant access", "Transfer",
                                                                 "Step aside", "Place a legal hold",
                                                                 "Export this case"} & set(case)
    assert not case["Acknowledge receipt"] and not case["Save"], "metadata only: nothing to hold"
    assert _buttons(testapp.get("/staff/password"))["Change password"]


def test_server_assisted_pages_hold_nothing(testapp, guardian, submitted, clock):
    html_login(testapp, guardian, clock)
    for path in (f"/staff/cases/{submitted['case']}", "/staff/password"):
        assert not any(_buttons(testapp.get(path)).values()), path
