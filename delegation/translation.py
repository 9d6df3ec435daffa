"""Decision-type names, descriptions and guidance are data in every language (django-modeltranslation);
English is the fallback where a language has no text of its own."""

from modeltranslation.translator import TranslationOptions, register

from delegation.models import DecisionType


@register(DecisionType)
class DecisionTypeTranslation(TranslationOptions):
    fields = ("name", "description", "purpose", "good_examples", "rationale_hint")
