"""Loading the plugins an organisation allows, and calling them so one failure harms nothing.

Plugins load only from the allowlist in `whistle.plugins`: each name is an entry point in the
group `whistle.plugins` or a dotted module path. Installed packages are never loaded just for
being installed. A plugin gets plaintext hooks only if `whistle.plugins.plaintext` names it.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from whistle.hooks import specs
from whistle.hooks.markers import PROJECT
from whistle.hooks.types import SCHEDULE_DATES, ScheduleWindow

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "whistle.plugins"

# Called as on_error(plugin_name, hook_name, exception_type_name) when a plugin raises.
ErrorHandler = Callable[[str, str, str], None]


class PluginError(Exception):
    """A configured plugin cannot be loaded or implements an unknown hook; the message says which."""


_SPEC_NAMES = frozenset(name for name in dir(specs) if name.startswith("whistle_"))


def plaintext_hooks() -> frozenset[str]:
    return frozenset(
        name for name in dir(specs)
        if name.startswith("whistle_") and getattr(getattr(specs, name), "whistle_plaintext", False)
    )


def _load_object(name: str) -> object:
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == name:
            return entry_point.load()
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise PluginError(
            f"plugin {name!r} is neither an entry point in the group {ENTRY_POINT_GROUP!r} nor an importable module"
        ) from error


@dataclass(frozen=True)
class DateRuleDays:
    """When the plugins' date rules can fire: the windows they declared (whistle_schedule_windows),
    and the plugins whose rules may fire on any day (they declared none, or a malformed one)."""

    windows: tuple[ScheduleWindow, ...] = ()
    any_day: tuple[str, ...] = ()


def _well_formed(window: object) -> bool:
    return (isinstance(window, ScheduleWindow) and window.date in SCHEDULE_DATES
            and all(isinstance(n, int) and not isinstance(n, bool) for n in (window.first, window.last))
            and window.first <= window.last and isinstance(window.profiles, tuple)
            and all(isinstance(name, str) for name in window.profiles))


class Hooks:
    """The organisation's plugins, and the one way core code calls them."""

    def __init__(self, plugins: Iterable[tuple[str, object]], plaintext_allowed: Iterable[str] = ()) -> None:
        self.manager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(specs)
        for name, plugin in plugins:
            self.manager.register(plugin, name=name)
            # A misspelt hook name fails at start-up instead of silently never being called.
            unknown = [impl.name for impl in self._hooks_of(name) if impl.name not in _SPEC_NAMES]
            if unknown:
                raise PluginError(f"plugin {name!r} implements unknown hooks: {', '.join(sorted(unknown))}")
        self.plaintext_allowed = frozenset(plaintext_allowed)
        self._plaintext = plaintext_hooks()
        self._date_rule_days: DateRuleDays | None = None

    def _hooks_of(self, plugin_name: str) -> list:
        plugin = self.manager.get_plugin(plugin_name)
        return list(self.manager.get_hookcallers(plugin) or [])

    @classmethod
    def from_names(cls, names: Iterable[str], plaintext_allowed: Iterable[str] = ()) -> Hooks:
        names = list(names)
        unknown = set(plaintext_allowed) - set(names)
        if unknown:
            raise PluginError(f"whistle.plugins.plaintext names plugins that are not enabled: {sorted(unknown)}")
        return cls(((name, _load_object(name)) for name in names), plaintext_allowed)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.manager.list_name_plugin()]

    def includes(self) -> list[Callable]:
        """The `includeme` of each plugin that has one (a plugin that is also a Pyramid include, to
        add pages or fill page slots), in the order the settings list them."""
        return [include for _name, plugin in self.manager.list_name_plugin()
                if callable(include := getattr(plugin, "includeme", None))]

    def date_rule_days(self) -> DateRuleDays:
        """When the plugins' `whistle_escalate_on_schedule` can fire (asked once, then kept): each
        plugin that implements it either declared its windows or may fire on any day. A malformed
        declaration is logged (by type) and counts as "any day": the rules then run too often,
        never too rarely."""
        if self._date_rule_days is None:
            scheduled = {impl.plugin_name for impl in self.implementations("whistle_escalate_on_schedule")}
            declared: dict[str, tuple[ScheduleWindow, ...]] = {}
            for plugin, result in self.call_named("whistle_schedule_windows"):
                windows = tuple(result) if isinstance(result, (list, tuple)) else (result,)
                if all(_well_formed(window) for window in windows):
                    declared[plugin] = windows
                else:
                    log.warning("plugin %s declared a malformed schedule window (%s): its date rules run every day",
                                plugin, ", ".join(sorted({type(w).__name__ for w in windows if not _well_formed(w)})))
            any_day = tuple(sorted(scheduled - declared.keys()))
            for plugin in any_day:
                log.warning("plugin %s declares no schedule windows: the tick runs its date rules for every open "
                            "case every day (docs/plugins.md, whistle_schedule_windows)", plugin)
            self._date_rule_days = DateRuleDays(
                tuple(window for plugin in sorted(scheduled & declared.keys()) for window in declared[plugin]), any_day)
        return self._date_rule_days

    def implementations(self, hook: str) -> list[pluggy.HookImpl]:
        """The implementations that may be called for `hook`, in pluggy's calling order."""
        impls = list(reversed(getattr(self.manager.hook, hook).get_hookimpls()))
        if hook in self._plaintext:
            impls = [impl for impl in impls if impl.plugin_name in self.plaintext_allowed]
        return impls

    def call(self, hook: str, *, on_error: ErrorHandler | None = None, **kwargs: Any) -> list[Any]:
        """Call every allowed implementation of `hook`; return their non-None results in order.

        An implementation that raises is logged (its type only: the message might carry content),
        reported to `on_error`, and skipped; the others still run.
        """
        return [result for _plugin, result in self.call_named(hook, on_error=on_error, **kwargs)]

    def call_named(self, hook: str, *, on_error: ErrorHandler | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """As `call`, with each result's plugin: [(plugin name, result)]."""
        caller = getattr(self.manager.hook, hook)  # AttributeError for an unknown hook: a bug in core
        firstresult = bool(caller.spec and caller.spec.opts.get("firstresult"))
        results = []
        for impl in self.implementations(hook):
            try:
                result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as error:  # noqa: BLE001 - a plugin must never break the request or other plugins
                log.error("plugin %s raised %s in %s", impl.plugin_name, type(error).__name__, hook)
                if on_error is not None:
                    on_error(impl.plugin_name, hook, type(error).__name__)
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
                if firstresult:
                    break
        return results
