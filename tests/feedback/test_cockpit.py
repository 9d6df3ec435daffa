"""The cockpit's figures on a hand-computed data set (`cockpit_data`), who may see them, the API and
its CSV, and the pages."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from delegation.deadlines import add_working_hours, working_seconds_between
from empower.errors import InvalidInput, NotAllowed
from empower.models import Team
from feedback import services as feedback_services
from feedback.cockpit import selectors
from feedback.cockpit.csv import csv_text, safe_cell
from feedback.cockpit.summaries import summaries_rebuild
from feedback.templatetags.cockpit import COCKPIT_TABS
from tests.feedback import cockpit_data


@pytest.fixture
def data(org, make_case):
    rows = cockpit_data.build(org, make_case)
    summaries_rebuild()
    return rows


def report(who, period="all", team=None):
    return selectors.decisions_report(employee=who, period=period, team=team)


def by_team(result):
    return {row.team: row for row in result.teams}


def test_headline_and_counts(org, data):
    result = report(org.dan)
    total, teams = result.total, by_team(result)
    assert (total.decisions, total.within_authority, total.escalated) == (8, 3, 5)
    assert total.at_edge_share == pytest.approx(3 / 8)
    assert total.escalation_rate == pytest.approx(5 / 8)
    care, returns = teams["Customer Care"], teams["Returns"]
    assert (care.decisions, care.within_authority, care.escalated) == (7, 2, 5)
    assert care.at_edge_share == pytest.approx(2 / 7)
    assert (returns.decisions, returns.within_authority, returns.escalated) == (1, 1, 0)
    assert returns.at_edge_share == 1
    assert teams["Operations"].decisions == 0 and teams["Operations"].at_edge_share is None


def test_limits_hit_outcomes_and_moves(org, data):
    total = report(org.dan).total
    assert total.limits_hit == {"per_decision": 3, "per_day": 1, "per_month": 1, "per_customer_month": 1}
    outcomes = (total.approved_as_asked, total.approved_lower, total.rejected, total.withdrawn, total.waiting)
    assert outcomes == (1, 1, 1, 1, 1)
    assert (total.moved_up_overdue, total.moved_up_capacity) == (1, 1)
    assert total.outcome_shares["approved_as_asked"] == pytest.approx(1 / 5)
    assert total.outcome_shares["moved_up_capacity"] == pytest.approx(1 / 5)


def test_amounts(org, data):
    result = report(org.dan)
    teams = by_team(result)
    assert teams["Customer Care"].amount_within_authority == Decimal("130.00")
    assert teams["Returns"].amount_within_authority == Decimal("40.00")
    assert result.total.amount_within_authority == Decimal("170.00")
    assert result.total.amount_approved_on_escalation == Decimal("350.00")  # 150 as asked + 200 of 250


def test_time_to_decision_percentiles(org, data):
    """Answered: d3 2 h (2 working), d4 Fri 16:00 → Mon 10:00 = 66 h (2 working), d5 30 min (30 working)."""
    total = report(org.dan).total
    # Calendar: 1800, 7200, 237600 → median 7200; p90 at rank 1.8: 7200 + 0.8 * (237600 - 7200).
    assert total.time_to_decision_p50 == pytest.approx(7200)
    assert total.time_to_decision_p90 == pytest.approx(191520)
    # Working: 1800, 7200, 7200.
    assert total.working_time_to_decision_p50 == pytest.approx(7200)
    assert total.working_time_to_decision_p90 == pytest.approx(7200)
    assert by_team(report(org.dan))["Returns"].time_to_decision_p50 is None


def test_percentiles_from_buckets_are_within_two_and_a_half_percent(org, data, monkeypatch):
    monkeypatch.setattr(selectors, "EXACT_PERCENTILES_UP_TO", 0)
    total = report(org.dan).total
    assert total.time_to_decision_p50 == pytest.approx(7200, rel=0.025)
    assert total.time_to_decision_p90 == pytest.approx(191520, rel=0.025)
    assert total.working_time_to_decision_p50 == pytest.approx(7200, rel=0.025)


def test_percentile_interpolates_like_postgresql():
    assert selectors.percentile([], 0.5) is None
    assert selectors.percentile([5], 0.9) == 5
    assert selectors.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert selectors.percentile([10, 20, 30, 40, 50], 0.9) == pytest.approx(46)


def test_overdue_now(org, data):
    result = report(org.dan)
    assert result.total.overdue_now == 1  # d7, due Tue 16:00, still assigned
    assert by_team(result)["Customer Care"].overdue_now == 1


def test_by_type(org, data):
    types = {t.code: t for t in report(org.dan).types}
    assert (types["refund"].decisions, types["refund"].escalated) == (7, 4)
    assert types["refund"].escalation_rate == pytest.approx(4 / 7)
    assert (types["goodwill_credit"].decisions, types["goodwill_credit"].escalated) == (1, 1)
    assert types["refund"].limits == {"per_decision": 2, "per_day": 1, "per_month": 1, "per_customer_month": 1}


def test_weeks(org, data):
    weeks = {w.week.isoformat(): w for w in report(org.dan).weeks}
    assert set(weeks) == {"2026-11-23", "2026-11-30"}
    assert (weeks["2026-11-23"].decisions, weeks["2026-11-23"].within_authority) == (1, 0)  # d4 on Friday
    assert (weeks["2026-11-30"].decisions, weeks["2026-11-30"].within_authority) == (7, 3)
    assert weeks["2026-11-30"].at_edge_share == pytest.approx(3 / 7)


def test_pyramid_levels(org, data):
    result = selectors.pyramid(employee=org.dan, period="all")
    levels = {level.key: level.decisions for level in result.levels}
    assert result.total == 8
    assert levels == {"agent": 3, "team_lead": 2, "manager": 1, "director": 0}  # d3, d5 bob; d4 carol
    assert result.unsettled == 2  # withdrawn d6, waiting d7
    assert result.at_edge_share == pytest.approx(3 / 8)
    assert [level.key for level in result.levels] == ["agent", "team_lead", "manager", "director"]


def test_period_counts_today_and_the_days_before(org, make_case):
    case = make_case(org.alice)
    now = timezone.now()
    for days_ago in (0, 29, 30, 89, 90, 200, 400):
        cockpit_data.decision(org, case, org.alice, org.refund, "10.00", now - timedelta(days=days_ago))
    summaries_rebuild()
    counts = {period: report(org.dan, period).total.decisions for period in ("30", "90", "365", "all")}
    assert counts == {"30": 2, "90": 4, "365": 6, "all": 7}
    assert selectors.period_start("30", today=datetime(2026, 12, 4, tzinfo=UTC).date()).isoformat() == "2026-11-05"


# --- who sees what ---------------------------------------------------------------------------------


def test_team_lead_sees_their_team_manager_the_teams_below(org, data):
    assert {r.team for r in report(org.bob).teams} == {"Customer Care"}
    assert report(org.bob).total.decisions == 7
    assert {r.team for r in report(org.carol).teams} == {"Customer Care", "Returns", "Operations"}
    assert report(org.hank).total.decisions == 1


def test_agent_is_refused(org, data):
    with pytest.raises(NotAllowed):
        report(org.alice)


def test_one_team(org, data):
    assert report(org.carol, team="Returns").total.decisions == 1
    assert report(org.carol, team=str(org.bob.team_id)).total.decisions == 7
    with pytest.raises(NotAllowed):
        report(org.hank, team="Customer Care")
    with pytest.raises(InvalidInput):
        report(org.carol, team="No such team")


def test_bad_period(org, data):
    with pytest.raises(InvalidInput):
        report(org.dan, period="7")


# --- the API ---------------------------------------------------------------------------------------

URL = "/api/v1/insights/decisions/"


def test_api_rows(org, data, api):
    response = api("dan").get(URL, {"period": "all"})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "all"
    total = body["total"]
    assert total["team"] is None
    assert total["decisions"] == 8 and total["within_authority"] == 3 and total["escalated"] == 5
    assert total["at_edge_share"] == pytest.approx(0.375)
    assert total["limits_hit"] == {"per_decision": 3, "per_day": 1, "per_month": 1, "per_customer_month": 1}
    for key in ("approved_as_asked", "approved_lower", "rejected", "withdrawn", "waiting"):
        assert total[key] == 1
    assert total["time_to_decision_p50"] == 7200
    assert total["time_to_decision_p90"] == 191520
    assert total["amount_within_authority"] == "170.00"
    assert total["amount_approved_on_escalation"] == "350.00"
    care = next(row for row in body["teams"] if row["team"] == "Customer Care")
    assert care["decisions"] == 7 and care["amount_within_authority"] == "130.00"


def test_api_permissions_and_input(org, data, api):
    assert api("alice").get(URL).status_code == 403
    assert api().get(URL).status_code in (401, 403)
    assert api("bob").get(URL).status_code == 200
    assert api("dan").get(URL, {"period": "14"}).status_code == 400
    assert api("hank").get(URL, {"team": "Customer Care"}).status_code == 403
    refused = api("dan").get(URL, {"team": "Atlantis"})
    assert refused.status_code == 400 and refused["Content-Type"].startswith("application/json")
    assert api("alice").get(URL, {"format": "csv"})["Content-Type"].startswith("application/json")


def test_api_csv_same_rows(org, data, api):
    response = api("carol").get(URL, {"period": "all", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["period", "team", "team_id", "decisions"]
    assert "limits_hit_per_customer_month" in header
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert [r["team"] for r in rows] == ["Customer Care", "Operations", "Returns", ""]
    assert rows[-1]["decisions"] == "8" and rows[-1]["amount_approved_on_escalation"] == "350.00"


def test_csv_cells_cannot_be_formulas(org, data, api):
    assert safe_cell("=1+2") == "'=1+2"
    assert safe_cell("+1") == "'+1" and safe_cell("-1") == "'-1" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("Returns") == "Returns" and safe_cell(3) == "3" and safe_cell(None) == ""
    assert csv_text(["a"], [['=HYPERLINK("x")']]).splitlines()[1] == '"\'=HYPERLINK(""x"")"'
    Team.objects.filter(pk=org.gina.team_id).update(name='=HYPERLINK("http://evil")')
    body = api("carol").get(URL, {"period": "all", "format": "csv"}).content.decode()
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_openapi_documents_the_call(api, org):
    schema = api("dan").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/insights/decisions/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"period", "team", "format"}
    assert {"application/json", "text/csv"} <= set(operation["responses"]["200"]["content"])


# --- the pages -------------------------------------------------------------------------------------


def test_pages_show_charts_and_tables(client, org, data):
    client.force_login(org.dan.user)
    page = client.get(reverse("cockpit"), {"period": "all"}).content.decode()
    for chart in ("chart-trend", "chart-teams", "chart-types", "chart-limits", "chart-outcomes"):
        assert f'id="{chart}"' in page
    for table in ("table-weeks", "table-teams", "table-types", "table-limits", "table-outcomes"):
        assert f'id="{table}"' in page
    assert '<dd id="kpi-at-edge">38 %</dd>' in page
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    pyramid = client.get(reverse("cockpit-pyramid"), {"period": "all"}).content.decode()
    assert 'id="chart-pyramid"' in pyramid and 'id="table-pyramid"' in pyramid


def test_pages_refuse_agents(client, org, data):
    client.force_login(org.alice.user)
    assert client.get(reverse("cockpit")).status_code == 403
    assert client.get(reverse("cockpit-pyramid")).status_code == 403
    assert client.get(reverse("cockpit-export", args=["teams"])).status_code == 403


def test_page_exports(client, org, data):
    client.force_login(org.carol.user)
    for table in ("teams", "types", "weeks", "pyramid", "satisfaction"):
        response = client.get(reverse("cockpit-export", args=[table]), {"period": "all"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert client.get("/insights/export/nothing.csv").status_code == 404
    types = client.get(reverse("cockpit-export", args=["types"]), {"period": "all"}).content.decode()
    assert types.splitlines()[1].startswith("Refund,refund,7,3,4,")


def test_director_lands_on_the_pyramid(client, org):
    login = reverse("login")
    assert client.post(login, {"username": "dan", "password": "demo-pass-123"})["Location"] == reverse(
        "cockpit-pyramid"
    )
    client.logout()
    assert client.post(login, {"username": "alice", "password": "demo-pass-123"})["Location"] == reverse("home")
    client.logout()
    carol = {"username": "carol", "password": "demo-pass-123"}
    assert client.post(login, carol)["Location"] == reverse("home")  # a manager: the queue
    client.logout()
    dan_elsewhere = {"username": "dan", "password": "demo-pass-123", "next": "/escalations/"}
    assert client.post(login, dan_elsewhere)["Location"] == "/escalations/"


def test_tabs_link_only_installed_pages(client, org, data):
    client.force_login(org.carol.user)
    page = client.get(reverse("cockpit")).content.decode()
    assert reverse("cockpit-pyramid") in page and reverse("feedback:insights") in page
    shown = {str(label) for _, label in COCKPIT_TABS if f">{label}</a>" in page}
    for name, label in COCKPIT_TABS:
        try:
            url = reverse(name)
        except NoReverseMatch:  # not installed on this branch: no tab, so no broken link
            assert str(label) not in shown
        else:
            assert url in page and str(label) in shown


def test_the_satisfaction_table_as_csv(client, org, resolve):
    feedback_services.survey_answer(survey_id=resolve().pk, csat=4)
    client.force_login(org.bob.user)
    response = client.get(reverse("cockpit-export", args=["satisfaction"]), {"period": "30"})
    lines = response.content.decode().splitlines()
    assert (
        lines[0] == "team,answered,first_contact_count,first_contact_csat,escalated_count,escalated_csat,difference,nps"
    )
    assert lines[1] == "Customer Care,1,1,4.0,0,,,"
    assert lines[2].startswith(",1,1,4.0")  # the total
    client.force_login(org.alice.user)
    assert client.get(reverse("cockpit-export", args=["satisfaction"])).status_code == 403


def test_pages_answer_a_team_not_seen_or_unknown(client, org, data):
    client.force_login(org.hank.user)
    assert client.get(reverse("cockpit"), {"team": "Customer Care"}).status_code == 403
    page = client.get(reverse("cockpit"), {"team": "Returns", "period": "all"})
    assert page.status_code == 200 and '<dd id="kpi-at-edge">100 %</dd>' in page.content.decode()
    client.force_login(org.carol.user)
    refused = client.get(reverse("cockpit-pyramid"), {"team": "Atlantis"})
    assert refused.status_code == 400 and "No such team." in refused.content.decode()


def test_working_seconds_are_the_inverse_of_the_deadlines():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert working_seconds_between(friday, datetime(2026, 11, 30, 10, 0, tzinfo=UTC)) == 2 * 3600
    assert working_seconds_between(friday, friday - timedelta(hours=1)) == 0
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert working_seconds_between(saturday, saturday + timedelta(hours=20)) == 0
    for hours in (0.5, 3, 8, 13, 40):
        assert working_seconds_between(friday, add_working_hours(friday, hours)) == hours * 3600
