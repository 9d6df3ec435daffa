"""The WSGI entry point (`empower.wsgi:application`, the contract's name, is an alias of this one)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What loading the app made (modules, models, URL patterns, translations: some 130,000 objects) lives
# as long as the process: kept out of the collector's full passes, which otherwise scan it all and
# stall a request for some 40 ms now and then (the decision path's p99 at 16 connections).
gc.freeze()
