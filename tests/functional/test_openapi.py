"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document of the public API."""
import re

from openapi_spec_validator import validate


def test_the_document_is_served_and_valid(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_documented_problem_shape_matches_what_the_api_sends(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    required = set(document["components"]["schemas"]["Problem"]["required"])
    problem = testapp.post_json("/api/v1/disclosures", {}, expect_errors=True).json
    assert required <= set(problem)


def api_routes(app) -> dict[str, set[str]]:
    """Every route under /api/ (and /healthz, /readyz, /metrics) with the methods its views answer."""
    introspector = app.registry.introspector
    patterns = {r["introspectable"]["name"]: r["introspectable"]["pattern"] for r in introspector.get_category("routes")}
    routes: dict[str, set[str]] = {}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        pattern = patterns.get(intr["route_name"] or "", "")
        if pattern.startswith("/api/") or pattern in ("/healthz", "/readyz", "/metrics"):
            methods = intr["request_methods"] or ("GET",)
            methods = (methods,) if isinstance(methods, str) else methods
            path = re.sub(r"\{(\w+):(?:[^{}]|\{[^{}]*\})*\}", r"{\1}", pattern)  # {id:\d{1,18}} -> {id}
            routes.setdefault(path, set()).update(method.lower() for method in methods)
    return routes


def test_every_api_route_and_method_is_documented(app, testapp):
    documented = testapp.get("/api/v1/openapi.json").json["paths"]
    routes = api_routes(app)
    assert len(routes) > 20
    missing = {path: sorted(methods - set(documented.get(path, {}))) for path, methods in routes.items()}
    assert {path: methods for path, methods in missing.items() if methods} == {}
    assert set(documented) <= set(routes), "documents only what exists"


def test_a_method_an_api_address_does_not_take_is_405_naming_those_it_does(testapp):
    """RFC 9110 15.5.6: 405 with Allow, for every method the document does not list at an address it lists."""
    for path, method, allowed in (("/api/v1/channels", "TRACE", "GET, HEAD"), ("/api/v1/disclosures", "GET", "POST"),
                                  ("/api/v1/admin/audit", "POST", "GET, HEAD"), ("/healthz", "DELETE", "GET, HEAD"), ("/readyz", "POST", "GET, HEAD"), ("/metrics", "PUT", "GET, HEAD"),
                                  ("/api/v1/staff/session", "PUT", "DELETE, POST")):
        response = testapp.request(path, method=method, status=405)
        assert response.headers["Allow"] == allowed, path
    assert testapp.get("/api/v1/no-such-thing", status=404)
    assert testapp.request("/api/v1/channels", method="HEAD", status=200)


def test_a_page_past_any_list_is_refused_before_the_database_sees_its_offset(app, testapp, dbsession, settings, clock):
    from tests.factories import api_login, make_staff

    guardian = api_login(testapp, make_staff(dbsession, settings, clock, "guardian"), clock)
    admin = api_login(testapp, make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False), clock)
    for path, headers in (("/api/v1/cases", guardian), ("/api/v1/admin/audit", admin)):
        problem = testapp.get(path, {"page": "702643525978031872", "per_page": "50"}, headers=headers, status=422).json
        assert problem["errors"][0]["field"] == "page"


def test_a_learning_filter_takes_a_day_as_yyyy_mm_dd_only(testapp, dbsession, settings, clock):
    from tests.factories import api_login, make_staff

    headers = api_login(testapp, make_staff(dbsession, settings, clock, "guardian"), clock)
    for week_date in ("2026-W01-1", "2026-W011"):
        problem = testapp.get("/api/v1/learning/outcomes", {"to": week_date}, headers=headers, status=422).json
        assert problem["errors"] == [{"field": "to", "message": "Give a day as YYYY-MM-DD."}]
    answer = testapp.get("/api/v1/learning/outcomes", {"to": "2026-12-05", "from": ""}, headers=headers).json
    assert answer["total"] == 0
