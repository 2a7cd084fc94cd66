"""The staff's own pages in Welsh and Arabic: the sign-in form and its refusal, a forgotten
password refused, and the admin's accounts page with a refused new account, each in the
address's language and with none of the English words left."""
from __future__ import annotations

from tests.factories import fresh_code


def test_the_sign_in_page_and_its_refusal_are_in_welsh(testapp, guardian, clock):
    page = testapp.get("/cy/staff/login", status=200)
    assert page.html.select_one("h1").get_text(strip=True) == "Mewngofnodi staff"
    assert "Staff sign-in is for guardians" not in page.text
    form = page.forms["login-form"]
    form["username"], form["password"], form["otp"] = guardian.username, "not the password", fresh_code(guardian, clock)
    refused = form.submit(status=401)
    summary = refused.html.select_one(".error-summary").get_text(" ", strip=True)
    assert "Nid yw'r enw defnyddiwr, y cyfrinair a'r cod hynny'n cyfateb." in summary
    assert "do not match" not in refused.text


def test_a_forgotten_password_refused_is_said_in_arabic(testapp):
    page = testapp.get("/ar/staff/forgot-password", status=200)
    assert '<html lang="ar" dir="rtl">' in page.text
    assert page.html.select_one("h1").get_text(strip=True) == "نسيت كلمة المرور"
    form = page.forms[0]
    form["username"], form["recovery_key"], form["new"], form["again"] = "sam", "x", "a long new password", "another"
    words = form.submit(status=422).html.get_text(" ")
    assert "كلمتا المرور الجديدتان مختلفتان." in words
    assert "The two new passwords differ" not in words and "Forgotten password" not in words


def test_the_admin_accounts_page_and_a_refused_account_are_in_welsh_and_arabic(testapp, admin, clock):
    from tests.factories import html_login

    html_login(testapp, admin, clock)
    for code, heading, added, too_short in (
        ("cy", "Ychwanegu cyfrif", "Ni ychwanegwyd y cyfrif", "rhaid i'r cyfrinair fod o leiaf 12 nod o hyd."),
        ("ar", "إضافة حساب", "لم تتم إضافة الحساب", "يجب أن تتكون كلمة المرور من 12 حرفًا على الأقل."),
    ):
        page = testapp.get(f"/{code}/admin/guardians", status=200)
        assert heading in page.text and "Add an account" not in page.text
        form = next(form for form in page.forms.values() if form.action.endswith("/admin/guardians"))
        assert form.action == f"/{code}/admin/guardians"
        form["username"], form["password"], form["again"] = "sam", "short", "short"
        words = form.submit(status=422).html.get_text(" ")
        assert added in words and too_short in words
        assert "The account was not added" not in words and "at least 12 characters" not in words
