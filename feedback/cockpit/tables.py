"""Each cockpit table as a header and rows: the CSV exports (page and API) and the JSON rows share them."""

from decimal import Decimal

from delegation.models import CAPS
from feedback.cockpit.selectors import DecisionRow, DecisionsReport, Pyramid


def money(value) -> str:
    return f"{Decimal(value or 0):.2f}"


def seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def decision_row(row: DecisionRow) -> dict:
    """One row as the API answers it (the contract's fields, then the cockpit's extras)."""
    return {
        "team": row.team,
        "team_id": row.team_id,
        "decisions": row.decisions,
        "within_authority": row.within_authority,
        "escalated": row.escalated,
        "at_edge_share": row.at_edge_share,
        "escalation_rate": row.escalation_rate,
        "limits_hit": row.limits_hit,
        "approved_as_asked": row.approved_as_asked,
        "approved_lower": row.approved_lower,
        "rejected": row.rejected,
        "withdrawn": row.withdrawn,
        "waiting": row.waiting,
        "moved_up_overdue": row.moved_up_overdue,
        "moved_up_capacity": row.moved_up_capacity,
        "time_to_decision_p50": seconds(row.time_to_decision_p50),
        "time_to_decision_p90": seconds(row.time_to_decision_p90),
        "working_time_to_decision_p50": seconds(row.working_time_to_decision_p50),
        "working_time_to_decision_p90": seconds(row.working_time_to_decision_p90),
        "amount_within_authority": money(row.amount_within_authority),
        "amount_approved_on_escalation": money(row.amount_approved_on_escalation),
        "overdue_now": row.overdue_now,
    }


def _flat(record: dict) -> dict:
    hits = record.pop("limits_hit")
    flat = {}
    for key, value in record.items():
        flat[key] = value
        if key == "escalation_rate":
            flat |= {f"limits_hit_{cap}": hits[cap] for cap in CAPS}
    return flat


def teams_table(report: DecisionsReport) -> tuple[list[str], list[list]]:
    """The teams, then the total (team empty), flat: the API's `?format=csv` answers exactly this."""
    records = [_flat(decision_row(row)) for row in [*report.teams, report.total]]
    header = ["period", *records[0].keys()]
    return header, [[report.period, *r.values()] for r in records]


def types_table(report: DecisionsReport) -> tuple[list[str], list[list]]:
    header = ["decision_type", "code", "decisions", "within_authority", "escalated", "escalation_rate"]
    header += [f"limits_hit_{cap}" for cap in CAPS]
    rows = [
        [t.decision_type, t.code, t.decisions, t.within_authority, t.escalated, t.escalation_rate]
        + [t.limits.get(cap, 0) for cap in CAPS]
        for t in report.types
    ]
    return header, rows


def weeks_table(report: DecisionsReport | Pyramid) -> tuple[list[str], list[list]]:
    header = ["week_starting", "decisions", "within_authority", "escalated", "at_edge_share"]
    rows = [[w.week.isoformat(), w.decisions, w.within_authority, w.escalated, w.at_edge_share] for w in report.weeks]
    return header, rows


def pyramid_table(pyramid: Pyramid) -> tuple[list[str], list[list]]:
    header = ["level", "decisions", "share"]
    rows = [["customers", pyramid.total, 1 if pyramid.total else None]]
    rows += [[level.label, level.decisions, level.share] for level in pyramid.levels]
    rows.append(["not settled yet (waiting or withdrawn)", pyramid.unsettled, None])
    return header, rows


def satisfaction_table(insights) -> tuple[list[str], list[list]]:
    """The satisfaction page's table: CSAT settled at first contact against escalated, per team."""
    header = ["team", "answered", "first_contact_count", "first_contact_csat", "escalated_count", "escalated_csat"]
    header += ["difference", "nps"]

    def row(r, team):
        csat = [r.first_contact_csat, r.escalated_csat, r.difference]
        first, up, difference = (None if v is None else round(v, 2) for v in csat)
        return [team, r.answered, r.first_contact_count, first, r.escalated_count, up, difference, r.nps]

    return header, [row(r, r.team) for r in insights.teams] + [row(insights.total, "")]
