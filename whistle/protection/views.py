"""Retaliation watch: HR integrations post personnel events (API). (The guardian's protection forms
are on the case page, whistle.workspace.protection_views; the reporter's consent and check-ins in
the mailbox, whistle.reporters.protection_views.)"""
from __future__ import annotations

from pyramid.view import view_config

from whistle.errors import validation_problem
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.protection import services
from whistle.protection.forms import validate_event
from whistle.security.permissions import Permission

# --- HR integrations -------------------------------------------------------------------------

@view_config(route_name="api.personnel_events", request_method="POST", renderer="json",
             permission=Permission.PERSONNEL_EVENTS_POST)
def personnel_event(request):
    data = read_json(request)
    errors = reject_unknown_members(data, {"personnel_id", "type", "effective"})
    clean, field_errors = validate_event(data)
    errors.update(field_errors)
    if errors:
        raise validation_problem(errors)
    services.receive_personnel_event(request.dbsession, request.whistle_settings, request.clock,
                                     request.identity.integration_id, clean["personnel_id"], clean["type"],
                                     clean["effective"], call_hook=request.call_hook)
    # The same answer whether or not anyone is protected: HR learns nothing from it.
    request.response.status = 202
    return {"status": "accepted"}
