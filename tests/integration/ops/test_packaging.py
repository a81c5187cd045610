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


def _final_stage(dockerfile: str) -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """The final stage's ``COPY --from=build SRC DST`` pairs, ENV values and CMD."""
    text = dockerfile.replace("\\\n", " ")
    stage = text.rsplit("\nFROM ", 1)[1]
    copies, env, cmd = [], {}, []
    for line in stage.splitlines():
        parts = line.split()
        if parts[:2] == ["COPY", "--from=build"]:
            copies.append((parts[2], parts[3]))
        elif parts[:1] == ["ENV"]:
            for item in parts[1:]:
                key, _, value = item.partition("=")
                env[key] = value
        elif parts[:1] == ["CMD"]:
            cmd = json.loads(line[len("CMD ") :])
    return copies, env, cmd


def test_the_container_layout_serves_the_bff(tmp_path: Path) -> None:
    """Follow the Dockerfile's final stage on this machine (no Docker engine): lay out /app as it
    copies it, build the SPA as the build stage does, and run its CMD with its ENV."""
    import shutil
    import time

    import httpx

    copies, image_env, cmd = _final_stage((REPO / "Dockerfile").read_text())
    assert cmd[:3] == ["python", "-m", "bff.cli"] and "--host" in cmd
    root = tmp_path / "app"
    for src, dst in copies:
        target = root / Path(dst).relative_to("/app")
        if src == "/app/deps":
            continue  # third-party packages: the test's virtualenv stands in for them
        if src == "/app/spa":
            built = subprocess.run(
                [sys.executable, "-m", "bff.cli", "build-spa", "--out", str(target)],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert built.returncode == 0, built.stderr
            continue
        source = REPO / Path(src).relative_to("/src")
        if src == "/src/infra":  # the build stage copies only infra/routes*.toml
            target.mkdir(parents=True)
            for routes in source.glob("routes*.toml"):
                shutil.copy(routes, target / routes.name)
        else:
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    assert image_env["PYTHONPATH"].split(":")[0] == "/app"

    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "BFF_SPA_DIR": image_env["BFF_SPA_DIR"].replace("/app", str(root)),
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
    }
    args = [sys.executable, *cmd[1:]]
    args[args.index("0.0.0.0")] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    proc = subprocess.Popen(
        args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the BFF did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "<!doctype html>" in page.text.lower()
        asset = next(line for line in page.text.split('"') if line.startswith("/assets/css/"))
        assert httpx.get(f"http://127.0.0.1:{port}{asset}", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
