"""Bounded input fields shared by every app's API and pages.

`MomentField` (a form field) and `parse_moment` (for a query string or an API body) read one moment
the same way: ISO 8601 (a browser's `datetime-local` value is ISO 8601 too); without an offset it is
read in the organization's time zone (`TIME_ZONE`). A moment outside the calendar once converted
(e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC) or with an offset no database takes is bad
input, answered with one wording (`MOMENT_INVALID`), never a server error. Python reads offsets up to
±23:59, PostgreSQL only up to ±15:59 (and real time zones stay within ±14:00), so the bound is ours.
"""

import re
from datetime import UTC, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from empower.errors import InvalidInput

MOMENT_INVALID = _("Enter a date and time between the years 1 and 9999, e.g. 2026-11-17T14:05:00Z.")

# The widest offset PostgreSQL accepts in a timestamp ("+15:59"); beyond it the query itself fails.
OFFSET_MAX = timedelta(hours=15, minutes=59)

# An unencoded "+01:00" in a query string arrives as " 01:00".
_LOST_PLUS = re.compile(r" (\d{2}:?\d{2})$")


def _moment(raw) -> datetime:
    """The moment `raw` names, aware; ValidationError when it names none that exists everywhere we use it."""
    moment = raw if isinstance(raw, datetime) else None
    if moment is None and isinstance(raw, str):
        text = _LOST_PLUS.sub(r"+\1", raw.strip())
        try:
            moment = parse_datetime(text)
        except ValueError:  # well formed, but not a date (e.g. 2026-02-30) or an offset beyond ±24 h
            moment = None
    if moment is None:
        raise ValidationError(MOMENT_INVALID, code="invalid")
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > OFFSET_MAX:
        raise ValidationError(MOMENT_INVALID, code="invalid")
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        # Both conversions the app needs: stored and compared in UTC, shown in the organization's zone.
        moment.astimezone(UTC)
        timezone.localtime(moment)
    except (ValueError, OverflowError):
        raise ValidationError(MOMENT_INVALID, code="invalid") from None
    return moment


class MomentField(forms.DateTimeField):
    """A form's date and time, bounded as described above."""

    default_error_messages = {"invalid": MOMENT_INVALID}

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        return _moment(value)


def parse_moment(raw: str | None, *, field: str, default_now: bool = True) -> datetime | None:
    """A moment from a query string or an API body; empty: now (or None). Bad: InvalidInput naming `field`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return timezone.now() if default_now else None
    try:
        return _moment(raw)
    except ValidationError:
        message = MOMENT_INVALID
        raise InvalidInput(message, field_errors={field: [message]}) from None
