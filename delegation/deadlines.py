"""Deadlines count working hours in the organization's time zone (a pure function of the calendar)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone


def working_time() -> tuple[set[int], int, int]:
    """The working days (ISO weekdays) and the day's opening and closing hour (24 = midnight).

    Settings refuse bad values at start-up; this checks again, since a day list that names no
    real weekday would make `add_working_hours` search for an open day forever.
    """
    days = {day for day in settings.EMPOWER_WORK_DAYS if 1 <= day <= 7}
    opens, closes = settings.EMPOWER_WORK_HOURS
    if not days:
        raise ImproperlyConfigured("EMPOWER_WORK_DAYS names no weekday from 1 (Monday) to 7 (Sunday).")
    if not 0 <= opens < closes <= 24:
        raise ImproperlyConfigured("EMPOWER_WORK_HOURS must be two hours from 0 to 24, start before end.")
    return days, opens, closes


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours after `start` (working days and hours from settings)."""
    if hours <= 0:
        # A deadline at once would move the escalation up on the next review, level after level.
        raise ValueError("A response time must be more than zero hours.")
    days, opens_at, closes_at = working_time()
    tz = timezone.get_default_timezone()
    left = timedelta(hours=hours)
    moment = timezone.localtime(start, tz)
    while True:
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        # Offsets from midnight, so that a day ending at 24 closes at the next midnight.
        opens = midnight + timedelta(hours=opens_at)
        closes = midnight + timedelta(hours=closes_at)
        if moment.isoweekday() not in days or moment >= closes:
            moment = _next_day(midnight, tz)
            continue
        moment = max(moment, opens)
        if moment + left <= closes:
            return moment + left
        left -= closes - moment
        moment = _next_day(midnight, tz)


def _next_day(midnight: datetime, tz) -> datetime:
    following = midnight.replace(tzinfo=None) + timedelta(days=1)
    # Re-localize so a daylight-saving change between the days is honoured.
    return timezone.make_aware(following, tz)


# The approver is reminded when this share of their working hours has passed (once per assignment).
REMINDER_SHARE = 0.75


def working_seconds_between(start: datetime, end: datetime) -> int:
    """The working seconds from `start` to `end` (0 when `end` is not after `start`): the inverse of
    `add_working_hours`, with the same working days and hours. The cockpit measures an approver's
    time to decision with it."""
    if end <= start:
        return 0
    days, opens_at, closes_at = working_time()
    tz = timezone.get_default_timezone()
    moment = timezone.localtime(start, tz)
    end = timezone.localtime(end, tz)
    total = timedelta()
    while moment < end:
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        opens = midnight + timedelta(hours=opens_at)
        closes = midnight + timedelta(hours=closes_at)
        if moment.isoweekday() in days:
            span_start, span_end = max(moment, opens), min(end, closes)
            if span_end > span_start:
                total += span_end - span_start
        moment = _next_day(midnight, tz)
    return int(total.total_seconds())
