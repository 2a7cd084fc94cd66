"""What happens to a staff account that other areas react to: the domain events (whistle.events)."""
from __future__ import annotations

from dataclasses import dataclass

from whistle.accounts.models import Account

AUTHENTICATOR, PASSWORD = "authenticator", "password"


@dataclass(frozen=True)
class AccountRecovered:
    """The account's recovery key was used to set up its authenticator again, or to set a new
    password (`what`: AUTHENTICATOR or PASSWORD), and a new recovery key replaced it. Published by
    whistle.accounts.services; whistle.notifications tells the account's owner, who cannot turn
    that notice off: if it was not them, their account has been taken over."""

    account: Account
    what: str
