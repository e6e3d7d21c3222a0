"""Schemathesis over /openapi.json against a live server: generated requests never get a 5xx."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


def test_identity_org_and_audit_routes_never_answer_5xx(live_url, superadmin_headers, tmp_path):
    header = next(iter(superadmin_headers.items()))
    result = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{live_url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "12",
            "--phases",
            "examples,coverage,fuzzing",
            "--include-path-regex",
            "^/api/v1/(auth|orgs|invitations|audit|system)",
            "--header",
            f"{header[0]}: {header[1]}",
            "--request-timeout",
            "10",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    report = result.stdout[:12000] + result.stderr[-2000:]
    assert result.returncode == 0, report
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts, report
    generated, passed = int(counts.group(1)), int(counts.group(2))
    assert generated == passed and generated > 300, report
