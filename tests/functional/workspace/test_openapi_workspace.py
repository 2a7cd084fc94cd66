"""Every workspace and admin API route is described in the OpenAPI document."""
from __future__ import annotations

import re


def test_every_workspace_api_route_is_documented(app, testapp):
    paths = testapp.get("/api/v1/openapi.json").json["paths"]
    mine = [route for route in app.routes_mapper.get_routes()
            if route.name.startswith(("api.case_", "api.staff_", "api.admin_")) and route.name != "api.case_attachment"]
    assert len(mine) >= 15
    for route in mine:
        path = re.sub(r"\{(\w+)(?::(?:[^{}]|\{[^{}]*\})*)?\}", r"{\1}", route.pattern)
        assert path in paths, route.name
    listing = {p["name"] for p in paths["/api/v1/cases"]["get"]["parameters"]}
    assert {"status", "channel", "overdue", "unread", "priority", "label", "sort", "page", "per_page"} <= listing
