"""The plugin system: hook specs, the allowlist-driven manager, and the hook caller core code uses."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from whistle import audit
from whistle.clock import Clock
from whistle.deadlines import registry_of
from whistle.events import EventBus
from whistle.hooks.manager import Hooks, PluginError
from whistle.hooks.markers import hookimpl, hookspec

__all__ = ["HookCaller", "Hooks", "PluginError", "PluginSettingsError", "hook_caller", "hookimpl", "hookspec",
           "includeme", "keys_of"]


class HookCaller:
    """How core code calls plugins, and publishes its domain events, within one transaction.

    `call_hook(hook, **kwargs)` calls every allowed implementation and returns the non-None
    results; `call_hook.named(hook, **kwargs)` returns them with their plugin's name. A plugin
    that raises is audited as "plugin.failed" (plugin, hook, error type) and skipped.
    `call_hook.publish(event)` runs core's subscribers of the event (whistle.events): they work
    in `dbsession`, with this caller. `request.call_hook` is one; `hook_caller(...)` makes one
    where there is no request (the tick, the command line, tests)."""

    def __init__(self, hooks: Hooks, events: EventBus, dbsession: Session, clock: Clock) -> None:
        self.hooks, self.events, self.dbsession, self.clock = hooks, events, dbsession, clock

    def _audit_failure(self, plugin: str, hook: str, error: str) -> None:
        audit.record(self.dbsession, self.clock, actor="system", action="plugin.failed",
                     detail={"plugin": plugin, "hook": hook, "error": error})

    def __call__(self, hook: str, **kwargs: Any) -> list[Any]:
        return self.hooks.call(hook, on_error=self._audit_failure, **kwargs)

    def named(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        return self.hooks.call_named(hook, on_error=self._audit_failure, **kwargs)

    def publish(self, event: Any) -> None:
        self.events.publish(event, self)


def hook_caller(hooks: Hooks, events: EventBus, dbsession: Session, clock: Clock) -> HookCaller:
    """The hook caller for work without a request: the app's plugins and event bus (registry.hooks,
    registry.events), audited in `dbsession`."""
    return HookCaller(hooks, events, dbsession, clock)


def includeme(config) -> None:
    settings = config.registry.whistle_settings
    config.registry.hooks = Hooks.from_names(settings.plugins, settings.plugins_plaintext)
    load_startup_offers(config.registry)
    config.add_request_method(
        lambda request: HookCaller(request.registry.hooks, request.registry.events, request.dbsession, request.clock),
        "call_hook", reify=True)


# --- what plugins offer at start-up ---


def load_startup_offers(registry) -> None:
    """What plugins offer once, at start-up: deadline profiles (by name, with core's),
    notification channels (by name; the scheduled tick delivers the outbox through them) and
    the days their date rules can fire on (`Hooks.date_rule_days`).
    First of all, each plugin gets its settings (`whistle_configure`)."""
    hooks = registry.hooks
    hooks.call("whistle_configure", settings=dict(getattr(registry, "raw_plugin_settings", {})))
    registry.deadline_profiles = registry_of(hooks.call("whistle_deadline_profiles"))
    channels = {}
    for offered in hooks.call("whistle_notification_channels"):
        for channel in offered if isinstance(offered, (list, tuple)) else ():
            if isinstance(getattr(channel, "name", None), str) and callable(getattr(channel, "deliver", None)):
                channels[channel.name] = channel
    registry.notification_channels = channels
    # Asked now, so that a plugin whose date rules declare no windows is named in the log at
    # start-up, not at the first tick.
    hooks.date_rule_days()


# --- plugin settings from the .ini ---
RESERVED_PREFIXES = ("whistle.", "pyramid.")


def plugin_settings(raw_settings) -> dict[str, str]:
    """What `whistle_configure` receives: every raw .ini key that is neither whistle's own nor
    Pyramid's (each plugin reads its own prefix, e.g. "whistle_smtp.")."""
    return {str(key): str(value) for key, value in raw_settings.items()
            if not str(key).startswith(RESERVED_PREFIXES)}


class PluginSettingsError(ValueError):
    """A plugin's .ini setting is missing, unknown or malformed; the message names the key,
    never its value (a value may be an address or, by mistake, a secret)."""


def keys_of(settings, prefix: str, *, required=(), optional=(), file_only=()) -> dict[str, str]:
    """A plugin's own keys from what `whistle_configure` received, checked: `prefix` ("acme.")
    removed, values stripped; {} when the .ini has none of them. Raises PluginSettingsError for
    an unknown key (a typo must not pass silently), a missing required one, or a secret given
    in the .ini itself (`file_only=("password",)` refuses `acme.password`: name the file with
    `acme.password_file` instead)."""
    ours = {key.removeprefix(prefix): str(value).strip() for key, value in settings.items() if key.startswith(prefix)}
    if not ours:
        return {}
    for secret in file_only:
        if secret in ours:
            raise PluginSettingsError(f"{prefix}{secret} is not read from the .ini: put it in a file and name "
                                      f"the file with {prefix}{secret}_file")
    known = tuple(required) + tuple(optional)
    unknown = sorted(set(ours) - set(known))
    if unknown:
        raise PluginSettingsError(
            f"unknown setting {prefix}{unknown[0]} (known: {', '.join(prefix + k for k in known)})")
    missing = [key for key in required if not ours.get(key)]
    if missing:
        raise PluginSettingsError(f"missing setting {prefix}{missing[0]}")
    return ours
