"""The WSGI entry point (`empower.wsgi:application`, the contract's name, is an alias of this one)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
