"""The shared bounded inputs: one moment reader and one adapter from a refusal to form errors."""

from datetime import UTC, datetime

import pytest
from django import forms
from django.utils import timezone

from empower.errors import InvalidInput, NotAllowed
from empower.fields import MOMENT_INVALID, MomentField, parse_moment
from empower.forms import add_domain_error


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-17T14:05:00Z", datetime(2026, 11, 17, 14, 5, tzinfo=UTC)),
        ("2026-11-17T15:05:00+01:00", datetime(2026, 11, 17, 14, 5, tzinfo=UTC)),
        ("2026-11-17T15:05:00 01:00", datetime(2026, 11, 17, 14, 5, tzinfo=UTC)),  # "+" lost in a query string
        ("2026-11-17T14:05", datetime(2026, 11, 17, 14, 5, tzinfo=UTC)),  # a browser's datetime-local
    ],
)
def test_a_moment_is_read_as_iso_8601(raw, expected):
    assert parse_moment(raw, field="at") == expected
    assert MomentField().clean(raw) == expected


def test_without_an_offset_it_is_the_organizations_time_zone(settings):
    settings.TIME_ZONE = "Europe/Warsaw"

    moment = parse_moment("2026-07-01T12:00", field="at")

    assert moment.astimezone(UTC) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def test_empty_is_now_or_nothing():
    before = timezone.now()
    assert parse_moment("  ", field="at") >= before
    assert parse_moment(None, field="at", default_now=False) is None
    assert MomentField(required=False).clean("") is None


@pytest.mark.parametrize(
    "raw",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "2026-11-17T14:05:00+24:00", "2026-13-01T00:00", "x"],
)
def test_a_moment_outside_the_calendar_is_refused_in_one_wording(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_moment(raw, field="at")
    assert refused.value.field_errors == {"at": [MOMENT_INVALID]}
    with pytest.raises(forms.ValidationError) as invalid:
        MomentField().clean(raw)
    assert invalid.value.messages == [str(MOMENT_INVALID)]


class NoteForm(forms.Form):
    note = forms.CharField(required=False)


def test_a_refusal_goes_beside_its_field_and_above_the_form():
    form = NoteForm({"note": ""})
    form.is_valid()

    shown = add_domain_error(
        form, NotAllowed("You may not grant that.", field_errors={"note": ["Too high."], "elsewhere": "Not here."})
    )

    assert shown == "You may not grant that."
    assert form.errors["note"] == ["Too high."]
    assert form.non_field_errors() == ["Not here.", "You may not grant that."]


def test_a_refusal_a_field_already_says_is_not_said_twice():
    form = NoteForm({"note": ""})
    form.is_valid()

    add_domain_error(form, InvalidInput("Write a note.", field_errors={"note": ["Write a note."]}))

    assert form.errors["note"] == ["Write a note."]
    assert form.non_field_errors() == []


def test_a_refusal_without_fields_goes_above_the_form():
    form = NoteForm({"note": ""})
    form.is_valid()

    add_domain_error(form, NotAllowed("Not yours."))

    assert form.non_field_errors() == ["Not yours."]
