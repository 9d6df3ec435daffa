from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DelegationConfig(AppConfig):
    name = "delegation"
    verbose_name = _("Authority and decisions")

    def ready(self) -> None:
        from delegation.authority_cache import connect_signals
        from delegation.selectors.escalations import register_case_flags
        from delegation.services import cases  # noqa: F401  # connects the `case_resolving` refusal

        connect_signals()
        register_case_flags()  # the queue's "waiting for …" and "approved"
