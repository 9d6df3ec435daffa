from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmpowerConfig(AppConfig):
    name = "empower"
    verbose_name = _("Organization")

    def ready(self) -> None:
        from empower import audit_chain, prepared, tokens

        tokens.connect_signals()
        audit_chain.connect_signals()
        prepared.connect_signals()
        from empower import strict_types

        strict_types.install()
