from django.db import models
from django.utils.translation import gettext_lazy as _

from empower.models import Case


class Survey(models.Model):
    """A customer's "how did it go?" for one resolved case; answered once, through a signed link."""

    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="survey")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5), name="survey_csat_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"Survey for {self.case}"
