"""`manage.py cockpit_summaries [--rebuild] [--no-track-records]`: bring the cockpit's summaries up
to date now, and the managers' lists of track records (every employee's record of each period)."""

from django.core.management.base import BaseCommand

from feedback.cockpit.summaries import summaries_rebuild, summaries_refresh
from feedback.cockpit.track_record_snapshots import track_records_refresh


class Command(BaseCommand):
    help = (
        "Refresh the cockpit's summaries (the days that changed), or --rebuild them all from the decisions; "
        "then recount the track records of every employee for the managers' lists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Recompute every day from the raw decisions.")
        parser.add_argument(
            "--no-track-records", action="store_true", help="Leave the managers' lists of track records as they are."
        )

    def handle(self, *args, rebuild: bool = False, no_track_records: bool = False, **options):
        if rebuild:
            summaries_rebuild()
            summaries_refresh()  # moves the watermark (and picks up what changed meanwhile)
            self.stdout.write("cockpit summaries rebuilt")
        else:
            days = summaries_refresh()
            done = "cockpit summaries rebuilt (first run)" if days is None else f"{len(days)} days refreshed"
            self.stdout.write(done)
        if not no_track_records:
            rows = track_records_refresh()
            self.stdout.write(f"track records recounted: {rows} rows")
