"""Browser tests: pytest-playwright driving Debian's chromium against pytest-django's live server."""

import shutil

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args():
    # `playwright install` cannot download browsers here: use the system's chromium.
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    return {"executable_path": shutil.which("chromium"), "args": [*args, "--disable-sync"]}


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Hashed (manifest) names are not built under the live server; serve static files as they are."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
