"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document of the public API."""
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
