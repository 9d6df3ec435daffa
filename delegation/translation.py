"""Decision-type names and descriptions are data in every language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from delegation.models import DecisionType


@register(DecisionType)
class DecisionTypeTranslation(TranslationOptions):
    fields = ("name", "description")
