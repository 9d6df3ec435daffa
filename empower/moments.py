"""Moments as the reader expects them: one style per language (config/formats), the organization's
time zone, the same on pages, in e-mails and in notifications."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


class LocalMoment:
    """A moment that writes itself when rendered. Pass it to `lazy_message` so a notification and
    its e-mail show the recipient's style, not the sender's."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __str__(self) -> str:
        return date_format(timezone.localtime(self.moment), "SHORT_DATETIME_FORMAT")
