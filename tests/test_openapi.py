"""The OpenAPI document is valid and complete; its viewer loads nothing from another host."""

import base64
import hashlib
import re

import pytest
import yaml
from django.core.management import call_command

API_PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/me/",
    "/api/v1/me/authority/",
    "/api/v1/cases/",
    "/api/v1/cases/{id}/",
    "/api/v1/decisions/",
    "/api/v1/decisions/{id}/",
    "/api/v1/escalations/",
    "/api/v1/escalations/{id}/",
    "/api/v1/escalations/{id}/approve/",
    "/api/v1/escalations/{id}/reject/",
]


@pytest.fixture
def schema(tmp_path) -> dict:
    """Generate the document as `manage.py spectacular --validate --fail-on-warn` would: any warning fails."""
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_the_schema_is_valid_without_warnings_and_documents_the_contract(schema):
    assert schema["openapi"].startswith("3.")
    assert set(API_PATHS) <= set(schema["paths"])
    decisions = schema["paths"]["/api/v1/decisions/"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(decisions["responses"])
    headers = {p["name"] for p in decisions["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert "Idempotent-Replayed" in decisions["responses"]["201"]["headers"]
    for action in ("approve", "reject"):
        responses = schema["paths"][f"/api/v1/escalations/{{id}}/{action}/"]["post"]["responses"]
        assert {"200", "400", "403", "404", "409"} <= set(responses)
    assert "400" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    line = schema["components"]["schemas"]["AuthorityLine"]["properties"]
    assert {"per_decision", "per_day", "used_today", "remaining_today", "per_month", "used_this_month"} <= set(line)
    assert line["per_decision"]["format"] == "decimal" and line["per_decision"]["nullable"] is True


def test_the_schema_is_served(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/decisions/" in response.content


def test_the_docs_page_loads_everything_from_this_host(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # Every URL the page names is local (the sidecar's static files, the init script, the schema).
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://", html)
    # No inline script: the init script is a separate, same-origin request.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert '"validatorUrl": null' in script.content.decode()  # no badge fetched from validator.swagger.io


def test_the_docs_page_keeps_the_strict_policy_but_for_its_own_inline_style(client, db):
    response = client.get("/api/docs/")
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    styles = policy["style-src"].split()
    assert styles[0] == "'self'" and "'unsafe-inline'" not in styles
    # Exactly the page's own inline <style> blocks are allowed, by their hashes.
    blocks = re.findall(r"<style>(.*?)</style>", response.content.decode(), flags=re.DOTALL)
    assert blocks
    assert styles[1:] == [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]
    # Everywhere else the policy is untouched.
    other = client.get("/api/v1/me/")["Content-Security-Policy"]
    assert "style-src 'self';" in other + ";" and "sha256" not in other
