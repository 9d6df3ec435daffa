"""Role and team names are data in every language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from empower.models import Role, Team


@register(Role)
class RoleTranslation(TranslationOptions):
    fields = ("name",)


@register(Team)
class TeamTranslation(TranslationOptions):
    fields = ("name",)
