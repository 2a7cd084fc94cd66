"""Every route, asked by a staff session in device mode (no key on the server), answers without a 500:
nothing on the way reaches a path that needs the guardian's key and fails there."""
from __future__ import annotations

import re

from pyramid.interfaces import IRoutesMapper

from tests.factories import device_login


def test_no_route_answers_a_device_session_with_a_server_error(testapp, dbsession, settings, clock, guardian,
                                                               submitted, app):
    token = device_login(testapp, dbsession, settings, clock, guardian)
    ref = submitted["case"]
    page = testapp.get(f"/staff/cases/{ref}")
    csrf = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    mapper = app.registry.getUtility(IRoutesMapper)
    bad = []
    for route in mapper.get_routes():
        path = route.pattern
        if not path.startswith("/"):
            continue
        path = path.replace("{ref}", ref)
        path = re.sub(r"\{[^}]*\}", "1", path)
        for method in ("GET", "POST"):
            headers = {"X-CSRF-Token": csrf}
            if path.startswith("/api/"):
                headers["Authorization"] = f"Bearer {token}"
            for accept in ("text/html", "application/json"):
                headers["Accept"] = accept
                if method == "GET":
                    response = testapp.get(path, headers=headers, expect_errors=True)
                else:
                    response = testapp.post(path, {"csrf_token": csrf}, headers=headers, expect_errors=True)
                if response.status_int >= 500:
                    bad.append((method, path, accept, response.status_int))
    assert not bad, bad
