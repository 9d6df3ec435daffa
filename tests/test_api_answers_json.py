"""Under /api/ every answer is JSON with `detail` and `code`, and the OpenAPI document says what the
server does (issue 13, item 5). The table of hostile inputs is tests/test_hostile_input.py; these are
the answers no single request row can show: a throttled caller, a server error, and the schema."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.throttling import AnonRateThrottle

from empower import api as empower_api


def test_a_throttled_caller_is_answered_in_json_with_retry_after(db, client, monkeypatch):
    # DRF reads the rates when the throttle class is defined: set them on the class.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    answers = [client.get("/api/v1/feedback/not-a-token/", REMOTE_ADDR="203.0.113.13") for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [404, 404]
    throttled = answers[2]
    assert throttled.status_code == 429 and throttled["Content-Type"] == "application/json"
    assert throttled.json()["code"] == "throttled" and throttled.json()["detail"]
    assert int(throttled["Retry-After"]) > 0


def test_a_server_error_under_the_api_is_json(org, api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(empower_api, "case_list", broken)
    client = api("alice")
    client.raise_request_exception = False
    answer = client.get("/api/v1/cases/")
    assert answer.status_code == 500 and answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "server_error" and answer.json()["detail"]


def test_outside_the_api_an_unknown_address_is_still_a_page(org, client):
    client.force_login(org.alice.user)
    answer = client.get("/does-not-exist/")
    assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_the_schema_advertises_json_bodies_only_and_the_answers_to_them(schema):
    bodies = 0
    for path, method, operation in _operations(schema):
        if "requestBody" in operation:
            bodies += 1
            assert set(operation["requestBody"]["content"]) == {"application/json"}, (path, method)
            assert {"400", "413", "415"} <= set(operation["responses"]), (path, method)
    assert bodies > 10


def test_the_schema_lists_the_answers_of_lists_and_of_the_token_endpoint(schema):
    lists = [(p, o) for p, m, o in _operations(schema) if m == "get" and p.endswith("s/") and "{" not in p[-6:]]
    for path, operation in lists:
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if names & {"page", "limit"}:
            assert {"400", "404"} <= set(operation["responses"]), path
    assert "429" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def test_the_schema_states_the_bounds_the_server_enforces(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert parameters["page"]["minimum"] == 1
    assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (1, 500)
    surveys = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/surveys/"]["get"]["parameters"]}
    assert (surveys["csat"]["minimum"], surveys["csat"]["maximum"]) == (1, 5)
    assert surveys["case"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert (surveys["limit"]["minimum"], surveys["offset"]["minimum"]) == (1, 0)
    components = schema["components"]["schemas"]
    decision = components["DecisionSubmitInputRequest"]
    assert decision["properties"]["rationale"]["minLength"] == 1
    assert decision["properties"]["amount"]["pattern"] == r"^\d{1,12}(\.\d{1,2})?$"
    limit = components["LimitInputRequest"]
    assert limit["properties"]["reason"]["minLength"] == 1 and "reason" in limit["required"]
    case = components["CaseCreateInputRequest"]
    assert case["properties"]["description"]["maxLength"] == 10_000


def test_no_enum_in_the_schema_offers_an_empty_value(schema):
    def enums(node):
        if isinstance(node, dict):
            if "enum" in node:
                yield node["enum"]
            for value in node.values():
                yield from enums(value)
        elif isinstance(node, list):
            for value in node:
                yield from enums(value)

    found = list(enums(schema))
    assert found and not [values for values in found if "" in values]
