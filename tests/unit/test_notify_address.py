"""Core checks only what every address shares (one line, given, a channel that exists); what makes
an address right for a channel is the channel plugin's to say (its `address_problem`)."""
from __future__ import annotations

import pytest

from whistle.notifications.preferences import AddressError, check_notify_address


class Pager:
    """A channel plugin's channel that knows its addresses: six digits."""

    name = "pager"

    def address_problem(self, address: str) -> str | None:
        return None if address.isdigit() and len(address) == 6 else "a pager number is six digits"


class Chat:
    """A channel without address_problem: any one-line address will do."""

    name = "chat"


class Broken:
    name = "broken"

    def address_problem(self, address: str) -> str | None:
        raise RuntimeError(f"cannot parse {address}")


CHANNELS = {"pager": Pager(), "chat": Chat(), "broken": Broken()}


def refused(channel: str, address: str) -> tuple[str, str]:
    with pytest.raises(AddressError) as caught:
        check_notify_address(channel, address, CHANNELS)
    return caught.value.field, str(caught.value)


def test_the_channel_s_own_rule_decides_and_its_words_are_shown():
    assert check_notify_address("pager", " 123456 ", CHANNELS) == ("pager", "123456")
    assert refused("pager", "12345") == ("address", "a pager number is six digits")


def test_a_channel_without_a_rule_takes_any_one_line_address():
    assert check_notify_address("chat", "@sam#night-shift-room", CHANNELS) is not None
    assert refused("chat", "two\nlines")[0] == "address"


def test_what_core_checks_for_every_channel():
    assert check_notify_address("", "anything", CHANNELS) == (None, None)
    assert refused("email", "sam@example.org") == (
        "channel", "there is no notification channel 'email' (available: broken, chat, pager)")
    assert refused("pager", " ") == ("address", "give the address to notify on that channel")


def test_a_rule_that_raises_refuses_the_address_without_saying_it(caplog):
    field, message = refused("broken", "555-SECRET")
    assert field == "address" and "555-SECRET" not in message
    assert "RuntimeError" in caplog.text and "555-SECRET" not in caplog.text
