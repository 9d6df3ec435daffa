"""Hostile input (issue 13): whatever arrives, the answer is a 400 (or a form error, or another 4xx the
API documents), never a server error, and nothing changes. Under `/api/` every answer is JSON with
`detail` and `code`.

One table, easy to extend: who asks, the method and path (`{case}` and `{token}` are filled in: a case
of alice's team, and a survey link of a resolved case), what is sent, the status expected and, where it
matters, words the answer must contain. Every row also checks that nothing was written.
"""

import json
from dataclasses import dataclass, field

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegation.models import AuthorityLimit, Decision, Delegation
from delegation.services.common import AMOUNT_INVALID
from empower.emails import EMAIL_INVALID
from empower.fields import MOMENT_INVALID
from empower.models import AuditRecord, Case, Customer
from empower.parsers import MAX_DEPTH
from empower.services import case_resolve
from feedback.models import Survey
from feedback.services import survey_token

HX = {"HTTP_HX_REQUEST": "true"}
FAR_OFFSET = "2026-12-01T00:00:00+17:10"  # Python reads it; PostgreSQL refuses anything beyond ±15:59
DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
LONG_USERNAME = "u" * 300
NOT_AMOUNTS = ["1_000", "١٢", "１２", "1E1", "+5", " 5", "5 ", "0x10", "1,5", "Infinity", "NaN", "12345678901234"]
AS_STRING = 'Send the amount as a string, e.g. "80.00".'


@dataclass
class Row:
    who: str | None  # a demo username, or None: no login
    method: str
    path: str
    json: object = None  # a body sent as JSON (a str is sent as it is)
    form: dict | None = None  # a page's form, posted
    query: dict | None = None  # query string
    status: int = 400
    says: str = ""  # words the answer contains
    headers: dict = field(default_factory=dict)


def decision_body(amount) -> dict:
    return {"case": "{case}", "decision_type": "refund", "amount": amount, "rationale": "Kettle arrived broken"}


def page_decision(amount) -> dict:
    return {"decision_type": "refund", "amount": amount, "rationale": "Kettle arrived broken"}


ROWS: dict[str, Row] = {
    # 1. No server error from input ---------------------------------------------------------------
    "api: ?at= with an offset beyond ±15:59": Row(
        "alice", "get", "/api/v1/employees/alice/authority/", query={"at": FAR_OFFSET}, says=str(MOMENT_INVALID)
    ),
    "api: a date-time filter with an offset beyond ±15:59": Row(
        "bob", "get", "/api/v1/surveys/", query={"answered_after": FAR_OFFSET}
    ),
    "api: a follow-up filter with an offset beyond -15:59": Row(
        "bob", "get", "/api/v1/surveys/", query={"answered_before": "2026-12-01T00:00:00-16:00"}
    ),
    "api: a stand-in ending at an offset beyond ±15:59": Row(
        "bob",
        "post",
        "/api/v1/delegations/",
        json={"to": "carol", "decision_types": ["refund"], "ends_at": FAR_OFFSET, "reason": "Away"},
        says=str(MOMENT_INVALID),
    ),
    "api: a temporary limit ending at an offset beyond ±15:59": Row(
        "bob",
        "put",
        "/api/v1/employees/alice/limits/refund/",
        json={"per_decision": "50.00", "reason": "Sale", "ends_at": FAR_OFFSET},
        says=str(MOMENT_INVALID),
    ),
    "page: ?at= with an offset beyond ±15:59": Row(
        "bob", "get", "/employees/alice/authority/", query={"at": FAR_OFFSET}, says=str(MOMENT_INVALID)
    ),
    "page: a stand-in ending at an offset beyond ±15:59": Row(
        "bob",
        "post",
        "/delegations/",
        form={"to": "carol", "decision_types": ["refund"], "ends_at": FAR_OFFSET, "reason": "Away"},
        says=str(MOMENT_INVALID),
    ),
    "api: JSON nested 1,000 deep on the token endpoint": Row(None, "post", "/api/v1/auth/token/", json=DEEP),
    "api: JSON objects nested 1,000 deep on the token endpoint": Row(
        None, "post", "/api/v1/auth/token/", json=DEEP_OBJECT
    ),
    "api: JSON nested 1,000 deep on the public survey endpoint": Row(
        None, "post", "/api/v1/feedback/{token}/", json=DEEP
    ),
    "api: JSON nested 1,000 deep on a case": Row("alice", "post", "/api/v1/cases/", json=DEEP),
    "api: JSON nested just beyond the bound": Row(
        "alice", "post", "/api/v1/decisions/", json="[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    ),
    "api: a body that is not JSON": Row("alice", "post", "/api/v1/decisions/", json="{'case': 1"),
    "page: a username over 255 characters": Row(
        None, "post", "/accounts/login/", form={"username": LONG_USERNAME, "password": "x"}, status=200
    ),
    "admin: a username over 255 characters": Row(
        None, "post", "/admin/login/", form={"username": LONG_USERNAME, "password": "x"}, status=200
    ),
    "api: a username over 255 characters": Row(
        None, "post", "/api/v1/auth/token/", json={"username": LONG_USERNAME, "password": "x"}
    ),
    # 2. One mailbox, one customer: what is no address is refused ---------------------------------
    "api: a customer address that is no address": Row(
        "alice",
        "post",
        "/api/v1/cases/",
        json={"customer": {"name": "Jo", "email": "jo@exa mple.com\u200b"}, "subject": "Kettle"},
        says=str(EMAIL_INVALID),
    ),
    "page: a customer address that is no address": Row(
        "alice",
        "post",
        "/cases/new/",
        form={"customer_name": "Jo", "customer_email": "jo@xn--zz.example", "subject": "Kettle"},
        says=str(EMAIL_INVALID),
    ),
    # 4. Amounts as documented, free text bounded -------------------------------------------------
    **{
        f"api: the amount {raw!r}": Row("alice", "post", "/api/v1/decisions/", json=decision_body(raw))
        for raw in NOT_AMOUNTS
    },
    **{
        f"page: the amount {raw!r}": Row(
            "alice", "post", "/cases/{case}/", form=page_decision(raw), headers=HX, says=str(AMOUNT_INVALID)
        )
        for raw in ["1_000", "١٢", "１２", "1E1", "+5"]
    },
    **{
        f"api: the limit {raw!r}": Row(
            "bob",
            "put",
            "/api/v1/employees/alice/limits/refund/",
            json={"per_day": raw, "reason": "More room"},
            says=str(AMOUNT_INVALID),
        )
        for raw in ["1_000", "١٢", "１２", "1E1", "+5"]
    },
    "api: an amount sent as a JSON number": Row(
        "alice", "post", "/api/v1/decisions/", json=decision_body(80), says=AS_STRING
    ),
    "api: an amount sent as a JSON float": Row(
        "alice", "post", "/api/v1/decisions/", json=decision_body(80.5), says=AS_STRING
    ),
    "api: a limit sent as a JSON number": Row(
        "bob",
        "put",
        "/api/v1/employees/alice/limits/refund/",
        json={"per_day": 300, "reason": "More room"},
        says=AS_STRING,
    ),
    "page: a case description of 2.4 MB": Row(
        "alice",
        "post",
        "/cases/new/",
        form={
            "customer_name": "Jo",
            "customer_email": "jo@example.com",
            "subject": "Kettle",
            "description": "x" * 2_400_000,
        },
        says="at most 10000 characters",
    ),
    "api: a case description beyond 10,000 characters": Row(
        "alice",
        "post",
        "/api/v1/cases/",
        json={"customer": {"name": "Jo", "email": "jo@example.com"}, "subject": "Kettle", "description": "x" * 10_001},
    ),
    "api: a rationale beyond 5,000 characters": Row(
        "alice", "post", "/api/v1/decisions/", json={**decision_body("10.00"), "rationale": "x" * 5001}
    ),
    "api: a subject sent as a number": Row(
        "alice",
        "post",
        "/api/v1/cases/",
        json={"customer": {"name": "Jo", "email": "jo@example.com"}, "subject": 7},
    ),
    "api: a case id sent as text": Row(
        "alice", "post", "/api/v1/decisions/", json={**decision_body("10.00"), "case": "text:{case}"}
    ),
    # 5. The API answers JSON, always -------------------------------------------------------------
    "api: an unknown route": Row("alice", "get", "/api/v1/no-such-thing/", status=404),
    "api: an unknown route, no login": Row(None, "post", "/api/v1/no-such-thing/", status=404),
    "api: a non-numeric id": Row("alice", "get", "/api/v1/cases/abc/", status=404),
    "api: a non-numeric escalation id": Row("alice", "post", "/api/v1/escalations/x1/approve/", json={}, status=404),
    "api: a method the route does not take": Row("alice", "delete", "/api/v1/me/", status=405),
    "api: a body above DATA_UPLOAD_MAX_MEMORY_SIZE": Row(
        "alice",
        "post",
        "/api/v1/cases/",
        json={"customer": {"name": "Jo", "email": "jo@example.com"}, "subject": "K", "description": "x" * 2_700_000},
        status=413,
    ),
    "api: a form encoding the API does not read": Row(
        "alice", "post", "/api/v1/decisions/", form={"case": "1", "amount": "10.00"}, status=415
    ),
    "api: a page number that is not one": Row("alice", "get", "/api/v1/cases/", query={"page": "abc"}),
    "api: a page size beyond 500": Row("alice", "get", "/api/v1/cases/", query={"page_size": "501"}),
    "api: a page size of nothing": Row("alice", "get", "/api/v1/cases/", query={"page_size": "0"}),
    "api: a negative limit": Row("bob", "get", "/api/v1/surveys/", query={"limit": "-1"}),
    "api: an empty choice": Row("alice", "get", "/api/v1/cases/", query={"status": ""}),
}


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Case, Customer, Decision, AuthorityLimit, Delegation, AuditRecord, AccessAttempt)
    } | {"answered surveys": Survey.objects.filter(answered_at__isnull=False).count()}


@pytest.fixture
def places(org, make_case):
    case = make_case(org.alice)
    resolved = make_case(org.alice)
    case_resolve(employee=org.alice, case=resolved, resolution_note="Sent a new kettle")
    return {"case": case.pk, "token": survey_token(survey=Survey.objects.get(case=resolved))}


def _fill(value, places: dict):
    """`"{case}"` as a whole value is the case's id (a number); `"text:{case}"` its id as a JSON string."""
    if isinstance(value, str):
        original, value = value, value.removeprefix("text:")
        if value.startswith("{") and value.endswith("}") and value[1:-1] in places:
            return places[value[1:-1]] if value == original else str(places[value[1:-1]])
        for name, filled in places.items():
            value = value.replace(f"{{{name}}}", str(filled))
        return value
    if isinstance(value, dict):
        return {key: _fill(item, places) for key, item in value.items()}
    return value


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_hostile_input_is_refused_and_changes_nothing(org, client, places, row: Row):
    if row.who:
        client.force_login(getattr(org, row.who).user)
    path = _fill(row.path, places)
    before = _counts()
    kwargs: dict = dict(row.headers)
    if row.json is not None:
        body = row.json if isinstance(row.json, str) else json.dumps(_fill(row.json, places))
        kwargs |= {"data": body, "content_type": "application/json"}
    elif row.form is not None:
        kwargs["data"] = row.form
    elif row.query is not None:
        kwargs["data"] = row.query

    with CaptureQueriesContext(connection):
        response = getattr(client, row.method)(path, **kwargs)

    text = response.content.decode()
    assert response.status_code == row.status, text[:1000]
    if path.startswith("/api/"):
        assert response["Content-Type"].startswith("application/json"), text[:300]
        answer = response.json()
        assert answer["detail"] and answer["code"], answer
    if row.says:
        shown = json.dumps(response.json(), ensure_ascii=False) if path.startswith("/api/") else text
        assert row.says in shown.replace('\\"', '"').replace("&quot;", '"'), shown[:2000]
    if row.form is not None and row.status == 200:
        assert 'class="errorlist' in text  # the form says what is wrong
    assert _counts() == before
