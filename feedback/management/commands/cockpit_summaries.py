"""`manage.py cockpit_summaries [--rebuild]`: bring the cockpit's summaries up to date now."""

from django.core.management.base import BaseCommand

from feedback.cockpit.summaries import summaries_rebuild, summaries_refresh


class Command(BaseCommand):
    help = "Refresh the cockpit's summaries (the days that changed), or --rebuild them all from the decisions."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Recompute every day from the raw decisions.")

    def handle(self, *args, rebuild: bool = False, **options):
        if rebuild:
            summaries_rebuild()
            summaries_refresh()  # moves the watermark (and picks up what changed meanwhile)
            self.stdout.write("cockpit summaries rebuilt")
        else:
            days = summaries_refresh()
            done = "cockpit summaries rebuilt (first run)" if days is None else f"{len(days)} days refreshed"
            self.stdout.write(done)
