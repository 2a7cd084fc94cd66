"""The hook system: documented specs, allowlisted loading, plaintext gating, failure isolation."""
from __future__ import annotations

import inspect
import logging
from datetime import date

import pytest

from tests.plugins import sample_plugins
from whistle.hooks import Hooks, PluginError, specs
from whistle.hooks.manager import plaintext_hooks
from whistle.hooks.types import CaseInfo, Disclosure

SAMPLE = "tests.plugins.sample_plugins"

CASE = CaseInfo(id=1, ref="AAAAA-BBBBB", channel="staff", status="received", priority="normal", labels=(),
                opened_on=date(2026, 1, 1), acknowledged_on=None, ack_due=date(2026, 1, 8),
                feedback_due=date(2026, 4, 8), detriment=False)
DISCLOSURE = Disclosure(channel="staff", text="a child was left alone", answers={}, identity=None)


def hook_specs():
    return [(name, fn) for name, fn in vars(specs).items() if name.startswith("whistle_") and callable(fn)]


def test_hookimpl_is_reexported_from_the_package():
    import whistle

    assert whistle.hookimpl.project_name == "whistle"


@pytest.mark.parametrize(("name", "spec"), hook_specs())
def test_every_hook_is_documented(name, spec):
    doc = inspect.getdoc(spec) or ""
    assert len(doc.splitlines()[0]) > 10, f"{name}: say when it fires"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc, f"{name}: document parameter {parameter}"
    assert ":return:" in doc, f"{name}: say what the return value means"
    plaintext = getattr(spec, "whistle_plaintext", False)
    assert f"Receives plaintext: {'yes' if plaintext else 'no'}." in doc, f"{name}: plaintext line must match"


def test_the_plaintext_hooks_are_the_ones_that_get_a_disclosure_or_a_file():
    takes_content = {name for name, spec in hook_specs()
                     if {"disclosure", "data"} & set(inspect.signature(spec).parameters)}
    assert plaintext_hooks() == takes_content == {"whistle_triage", "whistle_excluded_guardians", "whistle_clean_file"}


def test_nothing_is_loaded_unless_named():
    hooks = Hooks.from_names([])
    assert hooks.names == []
    assert hooks.call("whistle_intake_fields", channel="staff") == []


def test_a_named_module_is_loaded_and_called():
    hooks = Hooks.from_names([SAMPLE])
    assert hooks.call("whistle_intake_fields", channel="staff")[0][0]["name"] == "site"


def test_an_unknown_plugin_name_stops_start_up():
    with pytest.raises(PluginError, match="no_such_plugin"):
        Hooks.from_names(["no_such_plugin"])


def test_an_unknown_hook_name_stops_start_up():
    with pytest.raises(PluginError, match="misspelt"):
        Hooks([("misspelt", sample_plugins.misspelt)])


def test_plaintext_allowance_must_name_an_enabled_plugin():
    with pytest.raises(PluginError, match="not enabled"):
        Hooks.from_names([], plaintext_allowed=[SAMPLE])


def test_plaintext_hooks_are_not_called_for_plugins_without_permission():
    sample_plugins.Counter.calls.clear()
    denied = Hooks.from_names([SAMPLE])
    assert denied.call("whistle_triage", case=CASE, disclosure=DISCLOSURE) == []
    assert "triage" not in sample_plugins.Counter.calls
    allowed = Hooks.from_names([SAMPLE], plaintext_allowed=[SAMPLE])
    (triage,) = allowed.call("whistle_triage", case=CASE, disclosure=DISCLOSURE)
    assert triage.labels == ("safeguarding",)


def test_a_raising_plugin_neither_stops_the_others_nor_leaks_content_to_the_log(caplog):
    hooks = Hooks([("sample", sample_plugins), ("raising", sample_plugins.raising)], plaintext_allowed=["sample", "raising"])
    failures = []
    with caplog.at_level(logging.ERROR):
        fields = hooks.call("whistle_intake_fields", on_error=lambda *failure: failures.append(failure), channel="staff")
        triage = hooks.call("whistle_triage", on_error=lambda *failure: failures.append(failure), case=CASE,
                            disclosure=DISCLOSURE)
    assert len(fields) == 1 and len(triage) == 1
    assert failures == [("raising", "whistle_intake_fields", "RuntimeError"), ("raising", "whistle_triage", "RuntimeError")]
    assert "RuntimeError" in caplog.text
    assert "secret content" not in caplog.text and DISCLOSURE.text not in caplog.text


def test_keys_of_takes_a_plugin_s_own_keys_and_names_a_bad_one_never_its_value():
    import pytest

    from whistle.hooks import PluginSettingsError, keys_of

    settings = {"acme.host": " mail.example.org ", "acme.port": "25", "other.host": "x"}
    assert keys_of(settings, "acme.", required=("host",), optional=("port",)) == {"host": "mail.example.org", "port": "25"}
    assert keys_of({"other.host": "x"}, "acme.", required=("host",)) == {}  # not configured at all
    for bad, says in (({"acme.host": "h", "acme.prot": "s3cret-typo"}, "unknown setting acme.prot"),
                      ({"acme.port": "25"}, "missing setting acme.host"),
                      ({"acme.host": "h", "acme.password": "s3cret"}, "acme.password is not read from the .ini")):
        with pytest.raises(PluginSettingsError) as raised:
            keys_of(bad, "acme.", required=("host",), optional=("port", "password_file"), file_only=("password",))
        assert says in str(raised.value) and "s3cret" not in str(raised.value)


def test_date_rules_run_every_day_for_a_plugin_that_declares_no_windows_or_a_malformed_one(caplog):
    from types import SimpleNamespace

    from whistle import hookimpl
    from whistle.hooks.types import ScheduleWindow

    def plugin(windows):
        rules = SimpleNamespace(whistle_escalate_on_schedule=hookimpl(lambda case, today: None))
        if windows is not None:
            rules.whistle_schedule_windows = hookimpl(lambda: windows)
        return rules

    good = ScheduleWindow("ack_due", -2, -2, ("eu_directive",))
    hooks = Hooks([("declared", plugin([good])), ("silent", plugin(None)),
                   ("wrong date", plugin([ScheduleWindow("closed_on", 0, 0)])),
                   ("backwards", plugin([ScheduleWindow("ack_due", 3, 1)])),
                   ("not a window", plugin(["ack_due - 2"])),
                   ("windows only", SimpleNamespace(whistle_schedule_windows=hookimpl(lambda: [good])))])
    with caplog.at_level(logging.WARNING):
        days = hooks.date_rule_days()
    assert days.windows == (good,)  # a plugin without date rules declares nothing that counts
    assert days.any_day == ("backwards", "not a window", "silent", "wrong date")
    assert "plugin silent declares no schedule windows" in caplog.text and "malformed" in caplog.text
    assert hooks.date_rule_days() is days  # asked once
