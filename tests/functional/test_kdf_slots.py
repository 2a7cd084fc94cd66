"""Argon2id work bounded (docs/operations.md 6.1): with every slot taken past the wait, a request
that needs a derivation is refused with 503 and Retry-After, the form's words kept, nothing stored."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from tests.factories import make_live_channel, make_staff
from whistle import crypto
from whistle.cases.models import Case


@pytest.fixture
def one_slot():
    """One Argon2id derivation at a time, waiting at most 50 ms; the app's bounds afterwards."""
    before = crypto.argon2id_bounds()
    crypto.bound_argon2id(1, 0.05)
    yield
    crypto.bound_argon2id(before.concurrency, before.wait)


@pytest.fixture
def channel(dbsession, settings, clock):
    return make_live_channel(dbsession, settings, clock, "staff", title="Raise a concern")


def test_the_settings_bound_the_process(app, settings):
    # make_configurator set the bounds from the settings.
    assert crypto.argon2id_bounds() == crypto.KdfBounds(settings.kdf_concurrency, settings.kdf_wait)


def test_a_derivation_waits_for_a_slot_and_is_refused_past_the_wait(one_slot):
    cost = crypto.KdfCost.for_tests()
    with crypto.kdf_slot():
        with pytest.raises(crypto.KdfBusy) as refused:
            crypto.derive_reporter_keys(crypto.new_receipt(), bytes(32), cost)
        assert refused.value.retry_after >= 1
    # Released: the next one runs.
    crypto.derive_reporter_keys(crypto.new_receipt(), bytes(32), cost)


def test_a_derivation_runs_once_the_slot_is_given_back_within_the_wait():
    before = crypto.argon2id_bounds()
    crypto.bound_argon2id(1, 5)
    try:
        taken, release = threading.Event(), threading.Event()

        def hold():
            with crypto.kdf_slot():
                taken.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        taken.wait(5)
        threading.Timer(0.2, release.set).start()
        crypto.derive_reporter_keys(crypto.new_receipt(), bytes(32), crypto.KdfCost.for_tests())  # waits, then runs
        holder.join()
    finally:
        crypto.bound_argon2id(before.concurrency, before.wait)


def test_the_report_form_comes_back_with_its_words_when_every_slot_is_taken(testapp, dbsession, channel, one_slot):
    form = testapp.get("/report/staff").forms[0]
    form["text"] = "The night shift rota is falsified every week."
    form["answers.ongoing"] = "yes"
    with crypto.kdf_slot():  # another request's derivation, holding the only slot
        page = form.submit(status=503)
    assert page.headers["Retry-After"] == "1"
    assert "The night shift rota is falsified every week." in page.text
    assert "The service is very busy just now, so nothing was sent yet." in page.text
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 0
    # Sent again once the slot is free: it goes through.
    page.forms["disclosure-form"].submit(status=303)
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 1


def test_the_api_answers_a_busy_problem(testapp, dbsession, channel, one_slot):
    body = {"channel": "staff", "text": "Something is wrong on ward 7.", "answers": {"ongoing": "yes"}}
    with crypto.kdf_slot():
        refused = testapp.post_json("/api/v1/disclosures", body, status=503)
    assert refused.headers["Retry-After"] == "1"
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == "/api/v1/problems/busy"
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 0
    testapp.post_json("/api/v1/disclosures", body, status=201)


def test_a_receipt_sign_in_says_the_service_is_busy(testapp, one_slot):
    with crypto.kdf_slot():
        page = testapp.post("/mailbox", {"receipt": crypto.new_receipt(), "csrf_token": _csrf(testapp)}, status=503)
    assert page.headers["Retry-After"] == "1"
    assert "The service is very busy just now" in page.text


def _csrf(testapp) -> str:
    return testapp.get("/mailbox").forms[0]["csrf_token"].value


def test_past_as_many_waiting_as_running_a_derivation_is_refused_at_once():
    """A waiting derivation holds a server thread: with every slot taken and as many waiting, the
    next is refused at once rather than tying up another thread for the whole wait."""
    before = crypto.argon2id_bounds()
    crypto.bound_argon2id(1, 10)
    try:
        release = threading.Event()
        taken = threading.Event()

        def hold():
            with crypto.kdf_slot():
                taken.set()
                release.wait(10)

        def wait_for_a_slot():
            with crypto.kdf_slot():
                pass

        holder, waiter = threading.Thread(target=hold), threading.Thread(target=wait_for_a_slot)
        holder.start()
        taken.wait(5)
        waiter.start()  # waits (up to 10 s) for the one slot
        time.sleep(0.2)
        started = time.perf_counter()
        with pytest.raises(crypto.KdfBusy):
            crypto.derive_reporter_keys(crypto.new_receipt(), bytes(32), crypto.KdfCost.for_tests())
        assert time.perf_counter() - started < 1, "refused at once, not after the wait"
        release.set()
        holder.join(5)
        waiter.join(5)
        assert not waiter.is_alive()
    finally:
        crypto.bound_argon2id(before.concurrency, before.wait)


def test_the_mailbox_sign_in_keeps_an_unsent_message_when_every_slot_is_taken(testapp, one_slot):
    csrf = testapp.get("/mailbox").forms[0]["csrf_token"].value
    with crypto.kdf_slot():
        page = testapp.post("/mailbox", {"receipt": crypto.new_receipt(), "csrf_token": csrf,
                                         "unsent": "The message I could not send before."}, status=503)
    assert page.headers["Retry-After"] == "1"
    assert "The service is very busy just now, so your receipt was not checked yet." in page.text
    assert "The message I could not send before." in page.text


def test_the_staff_sign_in_comes_back_with_the_username_when_every_slot_is_taken(testapp, dbsession, settings,
                                                                                 clock, one_slot):
    staff = make_staff(dbsession, settings, clock, "busy.guardian")
    form = testapp.get("/staff/login").forms[0]
    form["username"], form["password"], form["otp"] = "busy.guardian", staff.password, "000000"
    with crypto.kdf_slot():
        page = form.submit(status=503)
    assert page.headers["Retry-After"] == "1"
    assert "The service is very busy just now, so nothing was checked yet." in page.text
    assert page.forms[0]["username"].value == "busy.guardian"
