"""The WSGI entry point: the contract's name, and the app's load kept out of the collector's full passes."""

import gc
import importlib


def test_the_loaded_app_is_frozen_for_the_collector():
    gc.unfreeze()
    try:
        wsgi = importlib.reload(importlib.import_module("config.wsgi"))
        assert gc.get_freeze_count() > 10_000  # the modules, models and URL patterns loaded
        assert importlib.import_module("empower.wsgi").application is not None
        assert callable(wsgi.application)
    finally:
        gc.unfreeze()
