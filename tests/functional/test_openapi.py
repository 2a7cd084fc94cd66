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
    """Every route under /api/ (and /healthz) with the methods its views answer."""
    introspector = app.registry.introspector
    patterns = {r["introspectable"]["name"]: r["introspectable"]["pattern"] for r in introspector.get_category("routes")}
    routes: dict[str, set[str]] = {}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        pattern = patterns.get(intr["route_name"] or "", "")
        if pattern.startswith("/api/") or pattern == "/healthz":
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
