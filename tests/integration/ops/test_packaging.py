"""The Lambda artifact the Makefile builds for `sam build` runs the BFF: its layout is the one
bff/settings.py (REPO_ROOT) expects, and the Mangum handler answers an API Gateway HTTP API
(payload 2.0) event from it. Dependencies come from the project's virtualenv here (the manylinux
wheel download of `make lambda-deps` needs PyPI); everything else is the real artifact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bff.devstack import free_port

REPO = Path(__file__).resolve().parents[3]

INVOKE = """
import json, sys
from bff.lambda_handler import handler
import bff.settings
event = {"version": "2.0", "routeKey": "$default", "rawPath": sys.argv[1], "rawQueryString": "",
         "headers": {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"},
         "requestContext": {"accountId": "123456789012", "apiId": "abc",
                            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
                            "http": {"method": "GET", "path": sys.argv[1], "protocol": "HTTP/1.1",
                                     "sourceIp": "203.0.113.9", "userAgent": "test"},
                            "requestId": "r1", "routeKey": "$default", "stage": "$default",
                            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0},
         "isBase64Encoded": False}
class Context:
    aws_request_id = "r1"
    function_name = "bff"
response = handler(event, Context())
print(json.dumps({"status": response["statusCode"], "body": response.get("body", ""),
                  "root": str(bff.settings.REPO_ROOT), "module": bff.__file__}))
"""


def test_make_lambda_source_builds_a_runnable_artifact(tmp_path: Path) -> None:
    artifact = tmp_path / "artifact"
    build = subprocess.run(
        ["make", "lambda-source", f"ARTIFACTS_DIR={artifact}", "ROUTES=infra/routes.example.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert (artifact / "bff" / "lambda_handler.py").is_file()
    assert (artifact / "infra" / "routes.toml").is_file()
    assert (artifact / "content" / "copy" / "en").is_dir() and (artifact / "spa-shell").is_dir()
    assert not list(artifact.rglob("__pycache__"))

    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: start-up must not need Okta or AEM
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(artifact),
        "BFF_PUBLIC_URL": "https://app.example.com",
        "BFF_SECRET_KEYS": "k" * 48,
        "BFF_OKTA_ISSUER": f"{closed}/oauth2/default",
        "BFF_OKTA_CLIENT_ID": "0oatest",
        "BFF_OKTA_CLIENT_SECRET": "a-client-secret-for-the-test",
        "BFF_SESSION_STORE": "memory://",
        "BFF_OUTBOX": "memory://",
        "BFF_AEM_URL": closed,
        "BFF_OKTA_TIMEOUT": "0.5",
        "BFF_AEM_TIMEOUT": "0.5",
        "BFF_API_ROUTES": str(artifact / "infra" / "routes.toml"),
    }
    run = subprocess.run(
        [sys.executable, "-c", INVOKE, "/healthz"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and json.loads(result["body"]) == {"status": "ok"}
    assert result["root"] == str(artifact) and result["module"].startswith(str(artifact))


def test_the_lambda_build_refuses_to_package_without_a_route_policy(tmp_path: Path) -> None:
    build = subprocess.run(
        ["make", "lambda-source", f"ARTIFACTS_DIR={tmp_path}", "ROUTES=infra/nope.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert build.returncode != 0
    assert "infra/nope.toml is missing" in build.stderr
