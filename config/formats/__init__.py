"""One date and time style per language, the same on pages, in e-mails and in notifications.

Django looks here first (FORMAT_MODULE_PATH) and falls back to its own locale formats for anything
not set. Each style ends in a digit, so a sentence that ends with a moment never doubles its full
stop ("2 p.m.."), and Icelandic never falls back to American dates.
"""
