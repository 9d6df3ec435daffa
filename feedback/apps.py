from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        # Connects the `case_resolved` receiver that asks the customer how it went.
        from feedback import services  # noqa: F401
        from feedback.selectors import register_case_flags

        register_case_flags()  # the queue's "a follow-up is open"
