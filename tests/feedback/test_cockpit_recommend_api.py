"""The cockpit's recommendations and what-if through the API and the pages: shapes, refusals, CSV."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from delegation.models import AuthorityLimit
from empower.models import AuditRecord
from feedback.cockpit.csv import csv_text, safe_cell
from feedback.cockpit.recommendations import recommendations_refresh
from feedback.models import LimitRecommendation
from tests.feedback.cockpit_recommend_data import escalated


@pytest.fixture
def proposal(org, make_case):
    """An open proposal for alice's refunds (20 escalations of 150.00 approved as asked), to bob."""
    case = make_case(org.alice)
    for i in range(20):
        escalated(
            case=case,
            maker=org.alice,
            approver=org.bob,
            decision_type=org.refund,
            amount=150,
            at=timezone.now() - timedelta(days=1, minutes=i),
        )
    recommendations_refresh()
    return LimitRecommendation.objects.get()


def test_the_list_answers_pages_of_the_contracts_shape(api, proposal):
    body = api("bob").get("/api/v1/insights/recommendations/").json()
    assert body["count"] == 1 and body["next"] is None
    [row] = body["results"]
    assert row["id"] == proposal.pk
    assert (row["decision_type"], row["employee"], row["role"], row["team"]) == ("refund", "alice", None, None)
    assert (row["limit"], row["current"], row["proposed"]) == ("per_decision", "100.00", "150.00")
    assert row["evidence"] == {"escalations": 20, "approved_as_asked": 20, "answered": 20, "share": 1.0, "days": 90}
    assert api("carol").get("/api/v1/insights/recommendations/").json()["count"] == 1
    assert api("hank").get("/api/v1/insights/recommendations/").json()["count"] == 0
    assert api("alice").get("/api/v1/insights/recommendations/").status_code == 403


def test_the_list_costs_the_same_queries_for_more_proposals(
    api, org, make_case, proposal, django_assert_max_num_queries
):
    client = api("bob")
    with django_assert_max_num_queries(8):
        client.get("/api/v1/insights/recommendations/")
    case = make_case(org.erin)
    for i in range(20):
        escalated(
            case=case,
            maker=org.erin,
            approver=org.bob,
            decision_type=org.goodwill,
            amount=40,
            at=timezone.now() - timedelta(hours=i + 1),
        )
    recommendations_refresh()
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/insights/recommendations/").json()["count"] == 2


def test_accept_through_the_api(api, org, proposal):
    assert api("hank").post(f"/api/v1/insights/recommendations/{proposal.pk}/accept/").status_code == 404
    response = api("bob").post(f"/api/v1/insights/recommendations/{proposal.pk}/accept/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["recommendation"]["status"] == "accepted"
    assert body["limits"][0]["employee"] == "alice" and body["limits"][0]["per_decision"] == "150.00"
    assert AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund).per_decision == Decimal("150")
    again = api("bob").post(f"/api/v1/insights/recommendations/{proposal.pk}/accept/")
    assert again.status_code == 409


def test_accept_refused_by_the_granting_rules_is_403_with_its_code(api, org, proposal):
    AuthorityLimit.objects.create(employee=org.bob, decision_type=org.refund, per_decision=Decimal("120"))
    response = api("bob").post(f"/api/v1/insights/recommendations/{proposal.pk}/accept/")
    assert response.status_code == 403 and response.json()["code"] == "above_own_limit"
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()


def test_dismiss_needs_a_reason(api, proposal):
    url = f"/api/v1/insights/recommendations/{proposal.pk}/dismiss/"
    response = api("bob").post(url, {"reason": ""}, format="json")
    assert (
        response.status_code == 400 and "reason" in response.json()["fields"] if "fields" in response.json() else True
    )
    proposal.refresh_from_db()
    assert proposal.status == "open"
    response = api("bob").post(url, {"reason": "One large customer"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"


def test_refresh_is_for_managers_and_recomputes(api, org, make_case, proposal):
    assert api("alice").post("/api/v1/insights/recommendations/refresh/").status_code == 403
    LimitRecommendation.objects.all().delete()
    assert api("bob").post("/api/v1/insights/recommendations/refresh/").status_code == 202
    assert LimitRecommendation.objects.filter(status="open").count() == 1  # the task ran (eagerly, in tests)


def test_csv_defuses_formulas(api, client, org, proposal):
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert [safe_cell(v) for v in ("+1", "-1", "@x", "ok", None, 5)] == ["'+1", "'-1", "'@x", "ok", "", "5"]
    assert csv_text(["a"], [["=1+2"]]) == "a\r\n'=1+2\r\n"
    org.alice.user.username = "=cmd|calc"
    org.alice.user.save()
    response = api("bob").get("/api/v1/insights/recommendations/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "'=cmd|calc" in response.content.decode()
    client.force_login(org.bob.user)
    assert "'=cmd|calc" in client.get("/insights/recommendations/?format=csv").content.decode()


def test_what_if_through_the_api(api, org, proposal):
    body = {"decision_type": "refund", "employee": "alice", "per_decision": "200.00"}
    response = api("bob").post("/api/v1/insights/what-if/", body, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    # All twenty for one customer: 200.00 a month per customer lets one of them through.
    assert (result["decisions"], result["escalated_before"], result["escalations_avoided"]) == (20, 20, 1)
    assert result["newly_escalated"] == 0 and result["escalated_after"] == 19
    assert result["amount_moved_to_edge"] == "150.00" and result["approver_hours_saved"] == 2.0
    assert {c["after"] for c in result["changed"]} == {"within_authority"}
    assert api("alice").post("/api/v1/insights/what-if/", body, format="json").status_code == 403
    assert api("hank").post("/api/v1/insights/what-if/", body, format="json").status_code == 403
    bad = api("bob").post("/api/v1/insights/what-if/", {**body, "per_day": "lots"}, format="json")
    assert bad.status_code == 400
    both = api("bob").post("/api/v1/insights/what-if/", {**body, "role": "agent"}, format="json")
    assert both.status_code == 400
    role = api("carol").post(
        "/api/v1/insights/what-if/",
        {"decision_type": "refund", "role": "agent", "team": "Customer Care", "per_decision": "200"},
        format="json",
    )
    assert role.status_code == 200 and role.json()["people"] == 3


def test_accepting_on_the_page_with_one_click(client, org, proposal):
    client.force_login(org.bob.user)
    page = client.get("/insights/recommendations/").content.decode()
    assert f"/insights/recommendations/{proposal.pk}/accept/" in page
    detail = client.get(f"/insights/recommendations/{proposal.pk}/").content.decode()
    assert 'id="evidence"' in detail and "Fine by me" in detail
    response = client.post(f"/insights/recommendations/{proposal.pk}/accept/")
    assert response.status_code == 302
    assert AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund).per_decision == Decimal("150")
    assert AuditRecord.objects.filter(action="limit.created", subject=org.alice).exists()


def test_dismissing_on_the_page_needs_a_reason(client, org, proposal):
    client.force_login(org.bob.user)
    url = f"/insights/recommendations/{proposal.pk}/dismiss/"
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Seasonal"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "dismissed" and proposal.reason == "Seasonal"


def test_pages_for_managers_only(client, org, proposal):
    client.force_login(org.alice.user)
    assert client.get("/insights/recommendations/").status_code == 403
    assert client.get("/insights/what-if/").status_code == 403
    assert client.get(f"/insights/recommendations/{proposal.pk}/").status_code == 404
    client.force_login(org.hank.user)
    assert client.get(f"/insights/recommendations/{proposal.pk}/").status_code == 404


def test_what_if_page_replays_and_applies(client, org, proposal):
    client.force_login(org.bob.user)
    query = "decision_type=refund&employee=alice&per_decision=200&days=90"
    page = client.get(f"/insights/what-if/?{query}").content.decode()
    assert 'id="what-if-result"' in page and "Apply this" in page
    response = client.post(
        "/insights/what-if/",
        {"decision_type": "refund", "employee": "alice", "per_decision": "200", "days": "90", "reason": "Trusted"},
    )
    assert response.status_code == 302
    limit = AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund)
    assert limit.per_decision == Decimal("200") and "Trusted" in limit.reason and "What-if" in limit.reason
    refused = client.post(
        "/insights/what-if/",
        {"decision_type": "refund", "employee": "alice", "per_decision": "9000", "days": "90"},
    )
    assert refused.status_code == 400 and "At most €500.00" in refused.content.decode()


def test_a_team_is_found_by_its_name_in_any_language_whatever_the_callers(api, org, proposal):
    """carol reads in Polish; the team has a Polish name too; another system sends the English one."""
    org.carol.language = "pl"
    org.carol.save()
    team = org.alice.team
    team.name_pl = "Obsługa klienta"
    team.save()
    body = {"decision_type": "refund", "role": "agent", "per_decision": "200"}
    for name in ("Customer Care", "Obsługa klienta"):
        response = api("carol").post("/api/v1/insights/what-if/", {**body, "team": name}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["people"] == 3
    unknown = api("carol").post("/api/v1/insights/what-if/", {**body, "team": "Nobody"}, format="json")
    assert unknown.status_code == 400 and "team" in unknown.json()
    decisions = api("carol").get("/api/v1/insights/decisions/", {"team": "Customer Care"})
    assert decisions.status_code == 200 and [row["team"] for row in decisions.json()["teams"]] == ["Obsługa klienta"]
