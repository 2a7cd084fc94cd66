"""The domain-event bus: an area says what happened; the areas that react to it subscribe.

An event type is a frozen dataclass, defined where the areas that react can import it (the case
events are in whistle.cases.events). Publishing goes through the hook caller that services
already receive, `call_hook.publish(event)` (whistle.hooks.HookCaller), so a service needs
nothing more to publish, and core's subscribers run whether or not any plugin is enabled.

Subscribers run at once, in the order they were added, in the publisher's transaction: a
subscriber that raises fails the publisher's work as its own code would, and a rolled-back
request leaves no trace of what its subscribers did. Each area adds its own subscribers in its
includeme (`config.add_event_subscriber(CaseOpened, handler)`); the composition root
(whistle.config) includes the areas lowest first, so a lower area's subscriber runs first.

A subscriber is called as `subscriber(event, call_hook)`: `call_hook` is the hook caller the
event was published through, with its `dbsession` and `clock`, so the subscriber works in the
same transaction and can call plugins (and publish) in turn.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

Subscriber = Callable[[Any, Any], None]  # (event, the hook caller it was published through)


class EventBus:
    """Which subscribers each event type has, in the order they were added."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Subscriber]] = {}

    def subscribe(self, event_type: type, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(event_type, []).append(subscriber)

    def publish(self, event: Any, call_hook: Any) -> None:
        """Call each subscriber of `type(event)` with the event and `call_hook`, in order."""
        for subscriber in self._subscribers.get(type(event), ()):
            subscriber(event, call_hook)


def includeme(config) -> None:
    config.registry.events = EventBus()

    def add_event_subscriber(config, event_type: type, subscriber: Subscriber) -> None:
        config.registry.events.subscribe(event_type, config.maybe_dotted(subscriber))

    config.add_directive("add_event_subscriber", add_event_subscriber)
