"""The answer to a write refused because a public key stored for the case is not the acting
session's (cases.services.KeyMismatch): a 409 page or problem, and an audit event that is kept;
and to a request the server would have to decrypt for, from a session that holds no key
(cases.services.DeviceModeOnly)."""
from __future__ import annotations

from pyramid.view import exception_view_config

from whistle import audit
from whistle.cases.services import DeviceModeOnly, KeyMismatch
from whistle.errors import Problem
from whistle.errors.views import respond

KEY_MISMATCH_PROBLEM = "/api/v1/problems/key-mismatch"
KEY_MISMATCH = ("Nothing was sent or saved: the key this report is encrypted with has been changed by someone who "
                "should not be able to change it, so whistle refused to encrypt anything to it. The refusal is "
                "recorded in the service's audit log.")


@exception_view_config(KeyMismatch)
def key_mismatch_view(exc: KeyMismatch, request):
    """Audit the refusal (kept when it came before anything was written: whistle.db.commit_veto)
    and say plainly what happened. Never which key or what would have been written."""
    identity = request.identity
    actor = identity.userid if identity is not None else audit.services.SYSTEM
    audit.record(request.dbsession, request.clock, actor=actor, action="case.key_mismatch", case_id=exc.case.id,
                 detail={"key": exc.which})
    return respond(request, Problem(409, KEY_MISMATCH, type=KEY_MISMATCH_PROBLEM,
                                    title="The case's key is not the one it should be"))


DEVICE_MODE_PROBLEM = "/api/v1/problems/device-mode"
DEVICE_MODE = ("This sign-in keeps cases on your device: the server holds no key to open or encrypt them for you, "
               "so this page's JavaScript does that in your browser. Use the case page with JavaScript on, or sign "
               "out and sign in again without JavaScript to have the server open cases for you (where this service "
               "allows that).")


@exception_view_config(DeviceModeOnly)
def device_mode_view(exc: DeviceModeOnly, request):
    """A guardian route that decrypts or encrypts on the server, asked by a session in device mode:
    409, saying what to do instead; nothing was done."""
    request.tm.doom()
    return respond(request, Problem(409, DEVICE_MODE, type=DEVICE_MODE_PROBLEM, title="Opened on your device only"))
