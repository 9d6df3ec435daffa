"""Beat keeps the cockpit's summaries current (`CELERY_BEAT_SCHEDULE["refresh-cockpit-summaries"]`), and the
managers' lists of track records (`["refresh-track-records"]`)."""

from celery import shared_task

from feedback.cockpit.summaries import summaries_refresh
from feedback.cockpit.track_record_snapshots import track_records_refresh


# The first run after a deploy (no watermark yet) rebuilds a year of a large company: give it time.
@shared_task(soft_time_limit=900, time_limit=960)
def refresh_cockpit_summaries() -> int:
    """Rebuild the days whose decisions or escalations changed since the last run; returns how many
    days (-1: all, on the first run). Runs one at a time; a second delivery waits, then finds little."""
    days = summaries_refresh()
    return -1 if days is None else len(days)


@shared_task(soft_time_limit=600, time_limit=660)
def refresh_track_records() -> int:
    """Recompute every employee's track record of each period for the managers' lists
    (`CELERY_BEAT_SCHEDULE["refresh-track-records"]`, every `COCKPIT_TRACK_RECORD_MINUTES`); returns
    how many rows were written. A second delivery waits for the first, then computes again."""
    return track_records_refresh()
