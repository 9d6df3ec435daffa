"""Every list answers pages: `{"count", "next", "previous", "results"}`, `?page=` and `?page_size=`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from delegation.services import decision_submit, delegation_create
from empower.pagination import Pagination

PAGE = {"count", "next", "previous", "results"}


@pytest.fixture
def three_cases(org, make_case):
    return [make_case(org.alice, subject=f"Case {n}") for n in range(3)]


@pytest.fixture
def three_escalations(org, make_case, django_capture_on_commit_callbacks):
    """Three refunds beyond alice's authority, routed to bob."""
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            decision_submit(
                employee=org.alice,
                case=make_case(org.alice),
                decision_type=org.refund,
                amount=Decimal("150.00") + n,
                rationale="Sofa arrived broken",
            )


@pytest.fixture
def three_delegations(org):
    """Alice's stand-ins, one after the other (never two at once for the same type)."""
    for n, delegate in enumerate((org.erin, org.frank, org.gina)):
        starts = timezone.now() + timedelta(days=2 * n + 1)
        delegation_create(
            delegator=org.alice,
            delegate=delegate,
            decision_types=[org.refund],
            starts_at=starts,
            ends_at=starts + timedelta(days=1),
            reason="Away",
        )


def _pages_through(client, path: str) -> None:
    first = client.get(path, {"page_size": 2})
    assert first.status_code == 200, first.content
    body = first.json()
    assert set(body) == PAGE
    assert body["count"] == 3 and len(body["results"]) == 2
    assert body["previous"] is None and "page=2" in body["next"] and "page_size=2" in body["next"]

    second = client.get(path, {"page_size": 2, "page": 2}).json()
    assert second["count"] == 3 and len(second["results"]) == 1 and second["next"] is None
    assert second["previous"] is not None
    ids = [row["id"] for row in body["results"] + second["results"]]
    assert len(set(ids)) == 3  # every row once, none twice

    everything = client.get(path).json()  # the default page holds them all
    assert [row["id"] for row in everything["results"]] == ids and everything["next"] is None
    assert client.get(path, {"page": 2}).status_code == 404  # past the last page


def test_the_case_list_answers_pages(org, api, three_cases):
    _pages_through(api("alice"), "/api/v1/cases/")


def test_the_escalation_inbox_answers_pages(org, api, three_escalations):
    _pages_through(api("bob"), "/api/v1/escalations/")


def test_the_delegation_list_answers_pages(org, api, three_delegations):
    _pages_through(api("alice"), "/api/v1/delegations/")


def test_a_page_is_never_larger_than_the_maximum(org, api, three_cases, settings):
    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "empower.pagination.Pagination"
    assert settings.REST_FRAMEWORK["PAGE_SIZE"] == 100
    assert Pagination.max_page_size == 500
    assert len(api("alice").get("/api/v1/cases/", {"page_size": 500}).json()["results"]) == 3
    # Beyond the maximum is refused, naming the parameter (issue 13: the schema says 1 to 500).
    refused = api("alice").get("/api/v1/cases/", {"page_size": 10_000})
    assert refused.status_code == 400 and "page_size" in refused.json()


def test_the_schema_documents_the_pages(org, client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/cases/", "/api/v1/escalations/"):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        name = ok["$ref"].rsplit("/", 1)[-1]
        assert name.startswith("Paginated"), name
        assert set(schema["components"]["schemas"][name]["properties"]) >= PAGE
        parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"page", "page_size"} <= parameters
