"""Issue 10, item 4: the follow-ups, the friction board and the insights (page and API) cost the same
number of queries with 3 rows as with 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback import services
from feedback.models import FollowUp

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _complaints(resolve, org, n: int) -> None:
    for i in range(n):
        services.survey_answer(survey_id=resolve(org.alice if i % 2 else org.gina).pk, csat=1 + i % 2, nps=i % 11)


def _reports(make_case, org, n: int) -> None:
    for i in range(n):
        services.friction_report_file(
            reporter=org.alice, case=make_case(org.alice), rule_text=f"Rule {i % 4}", would_have_done="Accept it"
        )


@pytest.mark.parametrize("who", ["bob", "carol", "dan"])
def test_follow_ups_board_and_insights_cost_the_same_with_3_and_30_rows(client, api, org, resolve, make_case, who):
    client.force_login(getattr(org, who).user)
    caller = api(who)
    pages = [reverse("feedback:follow-ups"), reverse("feedback:reports"), reverse("feedback:insights")]
    pages += [f"{reverse('feedback:insights')}?period={period}" for period in ("30", "365", "all")]
    _complaints(resolve, org, 3)
    _reports(make_case, org, 3)
    few = [_queries(client, url) for url in pages] + [_queries(caller, "/api/v1/insights/feedback/?period=all")]
    _complaints(resolve, org, 27)
    _reports(make_case, org, 27)
    assert FollowUp.objects.count() == 30
    many = [_queries(client, url) for url in pages] + [_queries(caller, "/api/v1/insights/feedback/?period=all")]
    assert many == few


def test_the_set_based_insights_add_up(api, org, resolve):
    """Settled at first contact plus escalated is every answer, per team and in the total."""
    _complaints(resolve, org, 6)
    body = api("dan").get("/api/v1/insights/feedback/?period=all").json()
    rows = body["teams"] + [body["total"]]
    assert body["total"]["answered"] == 6 == sum(row["answered"] for row in body["teams"])
    for row in rows:
        assert row["first_contact_count"] + row["escalated_count"] == row["answered"]
