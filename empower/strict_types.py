"""JSON's types, kept: the API reads a string field only from a JSON string, a whole number only from a
JSON integer, a yes/no only from true or false.

DRF's fields are lenient by design, for form-encoded bodies where everything arrives as text: a
CharField takes `7` and stores "7", an IntegerField takes "7" or 7.0, a BooleanField takes "yes" or 1.
The API reads JSON only (`empower.parsers`), so that leniency only made the server accept what its
own schema says is wrong (a `description` of `0`). `install()` (called once, from `EmpowerConfig.ready`)
makes these three fields refuse another JSON type with their own "invalid" message; every serializer,
ours and those added later, gets it. The page forms are Django forms and are not affected.
"""

from rest_framework import fields

_INSTALLED = False


def _strict(field_class, accepts):
    lenient = field_class.to_internal_value

    def to_internal_value(self, data):
        if not accepts(data):
            self.fail("invalid")
        return lenient(self, data)

    to_internal_value.__doc__ = lenient.__doc__
    field_class.to_internal_value = to_internal_value


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    _strict(fields.CharField, lambda data: isinstance(data, str))
    _strict(fields.IntegerField, lambda data: isinstance(data, int) and not isinstance(data, bool))
    _strict(fields.BooleanField, lambda data: isinstance(data, bool))
