"""Browser tests: pytest-playwright driving Debian's chromium against pytest-django's live server."""

import re
import shutil

import pytest
from playwright.sync_api import Page


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


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    """DEBUG=1 as `make run` writes it, or off as in production (pytest turns it off by default):
    issue 12 asks every screen a user sees to be proven in both configurations."""
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def problems(page: Page) -> list[str]:
    """Script errors and CSP violations; a refused form's 4xx answer is expected, nothing else."""
    found: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not re.search(r"status of 4\d\d", message.text):
            found.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found
