"""Deadlines count working hours in the organization's time zone (a pure function of the calendar)."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours after `start` (working days and hours from settings)."""
    tz = timezone.get_default_timezone()
    day_start = time(settings.EMPOWER_WORK_HOURS[0])
    day_end = time(settings.EMPOWER_WORK_HOURS[1])
    left = timedelta(hours=hours)
    moment = timezone.localtime(start, tz)
    while True:
        opens = moment.replace(hour=day_start.hour, minute=0, second=0, microsecond=0)
        closes = moment.replace(hour=day_end.hour, minute=0, second=0, microsecond=0)
        if moment.isoweekday() not in settings.EMPOWER_WORK_DAYS or moment >= closes:
            moment = _next_day_start(moment, day_start.hour)
            continue
        moment = max(moment, opens)
        if moment + left <= closes:
            return moment + left
        left -= closes - moment
        moment = _next_day_start(moment, day_start.hour)


def _next_day_start(moment: datetime, hour: int) -> datetime:
    following = (moment + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    # Re-localize so a daylight-saving change between the days is honoured.
    return timezone.localtime(timezone.make_aware(following.replace(tzinfo=None)))
