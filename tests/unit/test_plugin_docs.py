"""The plugin guide and the tests keep up with the hook specs.

docs/plugins.md must have a reference entry for every hook in whistle.hooks.specs, with the
right plaintext line, and name no hook that does not exist; its worked example must run. Every
hook must be referenced by name in some test (tests/ or plugins/*/tests/): a name in a test is a
weak proxy for "exercised", but a hook no test mentions is certainly untested.
"""
from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path

from whistle.escalations.services import RULE_EVENTS
from whistle.hooks import Hooks, specs
from whistle.hooks.types import Action, CaseInfo

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
HOOKS = {name for name, value in vars(specs).items() if name.startswith("whistle_") and callable(value)}
PLUGIN_PACKAGES = {path.name for path in (ROOT / "plugins").glob("whistle_*") if path.is_dir()}

# Hooks that no test references yet. Core does not fire this hook yet (nothing is purged yet),
# and no bundled plugin implements it, so there is nothing to exercise. This set may only shrink:
# the test below fails as soon as one of these gains a test, so take it out then.
NOT_YET_CALLED_BY_CORE: set[str] = set()


def guide_sections() -> dict[str, str]:
    """Each hook reference entry ("### `whistle_x(...) -> ...`") and the text under it."""
    parts = re.split(r"^### `(whistle_\w+)\(", GUIDE.read_text(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_hook_has_a_reference_entry_with_the_right_plaintext_line():
    sections = guide_sections()
    assert HOOKS - set(sections) == set(), "hooks missing from docs/plugins.md"
    for name, text in sections.items():
        plaintext = getattr(getattr(specs, name, None), "whistle_plaintext", False)
        assert f"**Plaintext:** {'yes' if plaintext else 'no'}" in text.split("\n### ")[0], name


def test_the_guide_names_no_hook_that_does_not_exist():
    mentioned = set(re.findall(r"\bwhistle_[a-z][a-z_]*\b", GUIDE.read_text()))
    assert mentioned - HOOKS - PLUGIN_PACKAGES == set()


def worked_example() -> str:
    """The guide's worked example: the plugin module's source (tests/e2e/test_plugin_guide.py runs it
    in a real server)."""
    return re.search(r"<!-- example:start -->\n```python\n(.*?)```\n<!-- example:end -->", GUIDE.read_text(),
                     re.DOTALL).group(1)


def test_the_worked_example_loads_and_acts_on_an_event_core_fires(tmp_path, monkeypatch):
    package = tmp_path / "acme_speakup_rules"
    package.mkdir()
    (package / "__init__.py").write_text(worked_example())
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks = Hooks.from_names(["acme_speakup_rules"])  # by dotted path, as the guide says works too
    case = CaseInfo(id=1, ref="AAAAA-BBBBB", channel="staff", status="feedback_given", priority="normal", labels=(),
                    opened_on=date(2026, 1, 5), acknowledged_on=date(2026, 1, 6), ack_due=date(2026, 1, 12),
                    feedback_due=date(2026, 4, 6), detriment=False)
    acted_on = [event for event in RULE_EVENTS if hooks.call("whistle_escalate_on_event", case=case, event=event)]
    assert acted_on == ["reporter_message"], "the example acts on an event core fires"
    assert hooks.call("whistle_escalate_on_event", case=case, event="reporter_message") == [[
        Action(kind="notify", rule="acme.wrote-after-feedback", to="second_tier"),
        Action(kind="raise_priority", rule="acme.wrote-after-feedback", priority="high"),
    ]]


def files_of_tests() -> list[Path]:
    files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "plugins").glob("whistle_*/tests/**/*.py")]
    this_file = Path(__file__).resolve()
    return [path for path in files if path.resolve() != this_file]


@functools.cache  # one scan of the test files per run
def hooks_referenced_in_tests() -> frozenset[str]:
    text = "\n".join(path.read_text() for path in files_of_tests())
    return frozenset(name for name in HOOKS if re.search(rf"\b{name}\b", text))


def test_every_hook_is_referenced_by_some_test_or_listed_as_not_yet_called():
    untested = HOOKS - hooks_referenced_in_tests()
    assert untested - NOT_YET_CALLED_BY_CORE == set(), "write a test for these hooks"


def test_the_not_yet_called_list_only_shrinks():
    for name in sorted(NOT_YET_CALLED_BY_CORE):
        assert name in HOOKS, f"{name} is not a hook any more: remove it from NOT_YET_CALLED_BY_CORE"
        assert name not in hooks_referenced_in_tests(), (
            f"{name} has a test now: remove it from NOT_YET_CALLED_BY_CORE")
