"""Looking up channels and describing them to reporters and API clients."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle.accounts.models import Account
from whistle.channels.models import Channel, ChannelGuardian

FIELD_TYPES = ("text", "long_text", "single_choice", "multiple_choice", "date", "yes_no")


def active_channels(dbsession: Session) -> list[Channel]:
    return list(dbsession.scalars(select(Channel).where(Channel.active.is_(True)).order_by(Channel.title)))


def channel_by_slug(dbsession: Session, slug: str) -> Channel | None:
    return dbsession.scalars(select(Channel).where(Channel.slug == slug, Channel.active.is_(True))).first()


def default_guardians(dbsession: Session, channel: Channel) -> list[Account]:
    """The enabled guardians who receive every new case on `channel`."""
    return list(
        dbsession.scalars(
            select(Account)
            .join(ChannelGuardian, ChannelGuardian.account_id == Account.id)
            .where(ChannelGuardian.channel_id == channel.id, Account.disabled.is_(False), Account.is_guardian.is_(True))
            .order_by(Account.id)
        )
    )


def describe(channel: Channel) -> dict:
    """The public description of a channel, as GET /api/v1/channels lists it."""
    fields = []
    for spec in channel.questionnaire:
        entry = {"name": spec["name"], "label": spec["label"], "type": spec["type"], "required": bool(spec.get("required"))}
        if "choices" in spec:
            entry["choices"] = list(spec["choices"])
        if spec.get("help"):
            entry["help"] = spec["help"]
        fields.append(entry)
    return {
        "slug": channel.slug,
        "title": channel.title,
        "introduction": channel.introduction,
        "identity_modes": list(channel.identity_modes),
        "fields": fields,
    }
