"""The API against its own OpenAPI document, fuzzed (issue 13, item 5).

schemathesis generates requests from `/api/schema/` (examples, boundary values, then random ones, valid
and invalid) and sends them to a live server on this test run's database (PostgreSQL in CI), logged in
as bob (a team lead: he may read, decide, answer and set limits, so most operations do real work).
Every check is on; `schemathesis.toml` lists where one is narrowed, with the reason. The run must end
with 0 failures: no server error, no undocumented status, no answer outside its schema, no invalid
request accepted, no valid one refused. The number of examples is bounded so CI stays quick
(FUZZ_EXAMPLES, default 3 per operation and phase); `make fuzz` runs this test alone.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from empower.tokens import api_token_issue

ROOT = Path(__file__).resolve().parent.parent
ST = Path(sys.executable).parent / "st"


@pytest.mark.fuzz
def test_the_api_keeps_to_its_schema_under_fuzzing(org, live_server, tmp_path):
    _token, key = api_token_issue(user=org.bob.user, name="fuzz")
    examples = os.environ.get("FUZZ_EXAMPLES", "3")
    command = [
        str(ST),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/",
        "--checks",
        "all",
        "--header",
        f"Authorization: Token {key}",
        "--max-examples",
        examples,
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        os.environ.get("FUZZ_SEED", "13"),
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    output = run.stdout + run.stderr
    summary = output[output.find("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    print(summary)  # the figures the README quotes: operations, cases, failures
    assert run.returncode == 0, output[-20000:]
    tested = re.search(r"Tested: (\d+)", summary)
    assert tested and int(tested.group(1)) >= 30, summary  # every operation was reached
