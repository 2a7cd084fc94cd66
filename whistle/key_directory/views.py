"""GET /api/v1/channels/{slug}/keys: the signed key directory a client checks and seals to."""
from __future__ import annotations

import base64

from pyramid.view import view_config

from whistle import crypto
from whistle.errors import Problem
from whistle.intake_channels.services import channel_by_slug
from whistle.key_directory.services import DirectoryError, NoDirectory, current_directory
from whistle.security.permissions import Permission

NO_KEYS_PROBLEM = "/api/v1/problems/no-key-directory"
DIRECTORY_UNUSABLE_PROBLEM = "/api/v1/problems/key-directory-unusable"


@view_config(route_name="api.channel_keys", request_method="GET", renderer="json", permission=Permission.PUBLIC)
def channel_keys(request):
    """The whole signed directory, as published ({"document", "signature", "key"}, and the organisation's
    "public_key"): a client checks
    the signature with the organisation's key (whose fingerprint it compares with the one the
    organisation publishes), the expiry and the version, then reads its channel's entry. Served
    only if this server can verify it too: 404 when nothing is signed for the channel, 409 when
    the directory is expired or otherwise unusable."""
    slug = request.matchdict["slug"]
    channel = channel_by_slug(request.dbsession, slug)
    if channel is None:
        raise Problem(404, "There is no such channel: see GET /api/v1/channels.", type=NO_KEYS_PROBLEM,
                      title="No such channel")
    settings = request.whistle_settings
    try:
        directory = current_directory(request.dbsession, settings, request.clock)
    except NoDirectory:
        raise Problem(404, "No key directory has been signed for this service yet.", type=NO_KEYS_PROBLEM,
                      title="No key directory") from None
    except DirectoryError as error:
        raise Problem(409, str(error), type=DIRECTORY_UNUSABLE_PROBLEM, title="Key directory unusable") from None
    if slug not in directory.channels:
        raise Problem(404, "The signed key directory does not list this channel yet.", type=NO_KEYS_PROBLEM,
                      title="Channel not in the key directory")
    assert settings.org_public_key is not None  # current_directory verified with it
    # The key itself too: a client that has pinned nothing yet compares its fingerprint with the one
    # the organisation publishes, then keeps the key; one that has pinned it ignores this member.
    return {**directory.published(crypto.fingerprint(settings.org_public_key)),
            "public_key": base64.b64encode(settings.org_public_key).decode("ascii")}
