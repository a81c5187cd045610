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

from bff_dev.serving import free_port

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
    dev_code = [p for p in artifact.rglob("*") if p.name in {"bff_dev", "twins", "devstack.py", "devmail.py"}]
    assert not dev_code and not (artifact / "dev").exists()  # the dev stack never ships

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


COMPOSE = """
import email, email.policy, json, sys
from pathlib import Path
import welcome_email.app as app
from fnlib.account_events import AccountCreated
out = {"module": app.__file__, "copy_dirs": [str(d) for d in app.COPY_DIRS],
       "repo_fallback_exists": app.COPY_DIRS[1].exists(), "emails": {}}
for locale in sys.argv[1:]:
    event = AccountCreated(eventId="e-" + locale, eventType="AccountCreated",
                           occurredAt="2026-01-01T00:00:00Z", userId="00u1", login="zoe@example.com",
                           firstName="Zoe", locale=locale)
    raw, served = app.mailer.compose(event)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    out["emails"][locale] = {"locale": served, "subject": str(message["Subject"]), "text": text}
print(json.dumps(out))
"""


def _make(target: str, artifact: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", target, f"ARTIFACTS_DIR={artifact}", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_make_functions_source_ships_the_functions_and_the_email_copy(tmp_path: Path) -> None:
    """The functions' artifact (sam build: build-WelcomeEmailFunction ...): every package of
    infra/functions/, and the bundled `email` copy where welcome_email looks for it; the
    function, run from the artifact alone (no AEM, no repository beside it), writes a localized
    welcome email from that copy."""
    artifact = tmp_path / "sam" / "build" / "WelcomeEmailFunction"
    build = _make("functions-source", artifact)
    assert build.returncode == 0, build.stderr
    functions = REPO / "infra" / "functions"
    packages = sorted(p.parent.name for p in functions.glob("*/__init__.py"))
    assert {"admin_api", "welcome_email", "account_validation", "account_notices", "fnlib"} <= set(packages)
    for package in packages:
        for source in (functions / package).rglob("*"):
            if source.is_file() and "__pycache__" not in source.parts:
                shipped = artifact / source.relative_to(functions)
                assert shipped.read_bytes() == source.read_bytes(), shipped
    # The shared Okta client, and nothing else of the BFF.
    shared = [REPO / "bff" / "__init__.py", *(p for p in (REPO / "bff" / "okta").rglob("*.py")
                                               if "__pycache__" not in p.parts)]
    assert sorted(p.relative_to(artifact) for p in (artifact / "bff").rglob("*") if p.is_file()) == sorted(
        p.relative_to(REPO) for p in shared
    )
    for source in shared:
        assert (artifact / source.relative_to(REPO)).read_bytes() == source.read_bytes(), source
    assert not list(artifact.rglob("__pycache__")) and not (artifact / "requirements.txt").exists()

    copies = sorted((REPO / "content" / "copy").glob("*/email.json"))
    assert {c.parent.name for c in copies} >= {"en", "fr", "fr-CA", "de", "es", "ja"}
    bundled = artifact / "welcome_email" / "copy"
    assert sorted(p.relative_to(bundled) for p in bundled.rglob("*") if p.is_file()) == sorted(
        Path(c.parent.name) / "email.json" for c in copies
    )
    for source in copies:
        assert (bundled / source.parent.name / "email.json").read_bytes() == source.read_bytes()

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(artifact),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SES_SENDER": "no-reply@example.com",
        "IDEMPOTENCY_TABLE": "idempotency",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    run = subprocess.run([sys.executable, "-c", COMPOSE, "fr-CA", "ja", "pt-BR"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["module"] == str(artifact / "welcome_email" / "app.py")
    assert result["copy_dirs"][0] == str(bundled) and not result["repo_fallback_exists"]

    def copy(locale: str) -> dict[str, str]:
        return dict(json.loads((REPO / "content" / "copy" / locale / "email.json").read_text()))

    fr_ca = result["emails"]["fr-CA"]
    assert fr_ca["locale"] == "fr-CA"
    assert fr_ca["subject"] == copy("fr")["welcome.subject"].replace("{firstName}", "Zoe")  # fr-CA -> fr
    assert copy("fr-CA")["footer.reason"] in fr_ca["text"]  # the regional override
    assert result["emails"]["ja"]["subject"] == copy("ja")["welcome.subject"].replace("{firstName}", "Zoe")
    assert result["emails"]["pt-BR"]["locale"] == "en"  # no Portuguese copy: the default


NOTICE_FROM_THE_ARTIFACT = """
import email, email.policy, json
import account_notices.app as app
from fnlib.account_events import AccountNotice
notice = AccountNotice(eventId="n1", eventType="AccountLocked", occurredAt="2026-01-01T00:00:00Z",
                       oktaEventId="o1", userId="00u1", login="hana@example.com", firstName="Hana",
                       locale="fr-CA")
raw, served = app.mailer.compose(notice)
message = email.message_from_bytes(raw, policy=email.policy.default)
print(json.dumps({"module": app.__file__, "copy_dirs": [str(d) for d in app.COPY_DIRS],
                  "repo_fallback_exists": app.COPY_DIRS[1].exists(), "locale": served,
                  "subject": str(message["Subject"]),
                  "text": message.get_body(preferencelist=("plain",)).get_content()}))
"""


def test_account_notices_runs_from_the_artifact_with_the_bundled_copy(tmp_path: Path) -> None:
    """build-AccountNoticesFunction is the same artifact: account_notices finds the email copy
    under welcome_email/copy/ and writes a localized lockout notice with the unlock link."""
    artifact = tmp_path / "sam" / "build" / "AccountNoticesFunction"
    assert _make("functions-source", artifact).returncode == 0
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(artifact),
        "PYTHONDONTWRITEBYTECODE": "1", "SES_SENDER": "no-reply@example.com",
        "IDEMPOTENCY_TABLE": "idempotency", "APP_URL": "https://portal.example.com",
        "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    }
    run = subprocess.run([sys.executable, "-c", NOTICE_FROM_THE_ARTIFACT], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["module"] == str(artifact / "account_notices" / "app.py")
    assert result["copy_dirs"][0] == str(artifact / "welcome_email" / "copy")
    assert not result["repo_fallback_exists"]
    fr = json.loads((REPO / "content" / "copy" / "fr" / "email.json").read_text())
    assert result["locale"] == "fr-CA" and result["subject"] == fr["locked.subject"]
    assert "https://portal.example.com/signin?unlock=1" in result["text"]


OKTA_FROM_THE_ARTIFACT = """
import json, sys
# This virtualenv installs the BFF in editable mode, whose import hook would find any bff.*
# module in the repository; Lambda has no such hook: drop it so only the artifact counts.
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
import httpx
import account_validation.app
import admin_api.app
from fnlib.okta import okta_client
import bff.okta

ORG = "https://acme.okta.example"
PAGES = {None: ([{"id": "00g1"}], "00g1"), "00g1": ([{"id": "00g2"}], "00g2"),
         "00g2": ([{"id": "00g3"}], None)}

def handler(request):
    assert request.headers["authorization"] == "SSWS artifact-token"
    if request.url.path == "/api/v1/users/00u1":
        return httpx.Response(200, json={"id": "00u1", "status": "ACTIVE", "profile": {}})
    items, after = PAGES[request.url.params.get("after")]
    link = {"Link": f'<{ORG}/api/v1/groups?limit=1&after={after}>; rel="next"'} if after else {}
    return httpx.Response(200, json=items, headers=link)

http = httpx.Client(transport=httpx.MockTransport(handler))
okta = okta_client(ORG, {"OKTA_API_TOKEN": "artifact-token"}, http=http)
out = {"user": okta.get_user("00u1")["id"], "groups": [g["id"] for g in okta.all_groups()],
       "bff": {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
               if name.split(".")[0] == "bff"}}
try:
    import bff.settings
except ModuleNotFoundError:
    out["bff.settings"] = None
else:
    out["bff.settings"] = bff.settings.__file__
print(json.dumps(out))
"""


def test_the_functions_artifact_runs_the_shared_okta_client_alone(tmp_path: Path) -> None:
    """Run from the functions' artifact alone, the functions import (admin_api, account_validation)
    and bff.okta's client works (SSWS, three pages): only bff/okta/ of the BFF is there and loaded."""
    artifact = tmp_path / "functions"
    assert _make("functions-source", artifact).returncode == 0
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(artifact),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SECRETS_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:functions",
        "OKTA_ORG_URL": "https://acme.okta.example",
        "REVIEW_TABLE": "reviews",
        "IDEMPOTENCY_TABLE": "idempotency",
        "COMPLIANCE_API_URL": "https://compliance.example",
        "MARKETO_IDENTITY_URL": "https://marketo.example/identity",
        "MARKETO_REST_URL": "https://marketo.example/rest",
    }
    run = subprocess.run([sys.executable, "-c", OKTA_FROM_THE_ARTIFACT], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["user"] == "00u1" and result["groups"] == ["00g1", "00g2", "00g3"]
    assert result["bff.settings"] is None  # the BFF itself is not in the artifact
    assert "bff.okta.client" in result["bff"]
    for name, path in result["bff"].items():
        assert name == "bff" or name.startswith("bff.okta"), name
        assert path is None or path.startswith(str(artifact)), (name, path)


def _make_rule_prerequisites(target: str) -> list[str]:
    """The prerequisites of ``target`` in the Makefile (rules like ``build-A build-B: lambda``)."""
    for line in (REPO / "Makefile").read_text().splitlines():
        targets, sep, prerequisites = line.partition(":")
        if sep and not line.startswith(("\t", "#")) and target in targets.split():
            return prerequisites.split()
    raise AssertionError(f"the Makefile has no rule for {target}")


def test_every_makefile_function_finds_its_handler_in_its_artifact(tmp_path: Path) -> None:
    from cfnlint.decode import decode

    template, matches = decode(str(REPO / "infra" / "template.yaml"))
    assert not matches and template is not None
    artifacts = {"lambda": tmp_path / "bff", "functions": tmp_path / "functions"}
    assert _make("lambda-source", artifacts["lambda"], "ROUTES=infra/routes.example.toml").returncode == 0
    assert _make("functions-source", artifacts["functions"]).returncode == 0
    built = 0
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        assert resource.get("Metadata", {}).get("BuildMethod") == "makefile", logical_id
        assert (REPO / "infra" / resource["Properties"]["CodeUri"]).resolve() == REPO  # the Makefile's folder
        (kind,) = _make_rule_prerequisites(f"build-{logical_id}")
        module = resource["Properties"]["Handler"].rpartition(".")[0]
        assert (artifacts[kind] / (module.replace(".", "/") + ".py")).is_file(), logical_id
        built += 1
    assert built == 6


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
    assert not [p for p in root.rglob("*") if p.name in {"bff_dev", "twins", "devstack.py", "devmail.py"}]

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
