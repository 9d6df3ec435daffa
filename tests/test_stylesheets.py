"""Our stylesheets close every block they open: one brace lost in a merge nested every rule after
it inside a phone-only media query, and the desktop showed the phone's "Menu" fold."""

from pathlib import Path

import pytest
from django.conf import settings

CSS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


@pytest.mark.parametrize("stylesheet", CSS, ids=[path.name for path in CSS])
def test_every_block_is_closed_where_it_is_opened(stylesheet):
    depth = 0
    for number, line in enumerate(stylesheet.read_text().splitlines(), start=1):
        # A line at the left margin starts a top-level rule: nothing may be open around it.
        if depth and line and not line[0].isspace() and not line.startswith("}"):
            raise AssertionError(f"{stylesheet.name}:{number} starts a rule inside a block left open above it")
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{stylesheet.name}:{number} closes a block never opened"
    assert depth == 0, f"{stylesheet.name} ends with {depth} block(s) open"
