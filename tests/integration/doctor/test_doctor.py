"""``bff doctor`` against the local twins (the ``bff dev`` stack on free ports): every check
passes as the stack comes up, and each check fails, for its own reason, when the one thing it
checks is broken (the Okta twin's org state, the AEM twin, moto, the settings)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from bff.doctor.checks import CHECK_NAMES, Result, diagnose
from bff.doctor.cli import run
from bff.settings import Settings
from bff_dev.devstack import StackInfo
from bff_dev.twins.okta.provisioning import Provisioning
from tests.e2e.harness import StackThread


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    thread = StackThread(tmp_path_factory.mktemp("doctor-stack"))
    info = thread.start()
    yield info
    thread.stop()


def _diagnose(settings: Settings) -> dict[str, Result]:
    async def go() -> list[Result]:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await diagnose(settings, http)

    results = asyncio.run(go())
    assert [r.name for r in results] == list(CHECK_NAMES)
    return {r.name: r for r in results}


def _settings(stack: StackInfo, **env: str) -> Settings:
    return Settings.from_env({**stack.env, **env}, dev=True)


def test_every_check_passes_on_the_local_stack(stack: StackInfo, capsys: pytest.CaptureFixture[str]) -> None:
    results = _diagnose(stack.settings)
    assert [n for n, r in results.items() if not r.ok] == [], "\n".join(r.line() for r in results.values())
    assert asyncio.run(run(stack.settings)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        len(lines) == len(CHECK_NAMES) + 1
        and lines[-1] == f"{len(CHECK_NAMES)} of {len(CHECK_NAMES)} checks passed"
    )


# -- breaking one thing at a time -----------------------------------------------------------------


def _prov(stack: StackInfo) -> Provisioning:
    prov = stack.info["okta_provisioning"]
    assert isinstance(prov, Provisioning)
    return prov


@contextlib.contextmanager
def _changed(obj: Any, attr: str, mutate: Callable[[Any], None]) -> Iterator[None]:
    """``mutate`` a deep copy of ``obj.<attr>``, put it in place, restore the original after."""
    original = getattr(obj, attr)
    changed = copy.deepcopy(original)
    mutate(changed)
    setattr(obj, attr, changed)
    try:
        yield
    finally:
        setattr(obj, attr, original)


def _app_settings(apps: dict[str, Any]) -> dict[str, Any]:
    app = next(a for a in apps.values() if a["label"] == "BFF (dev client)")
    return app["settings"]["oauthClient"]  # type: ignore[no-any-return]


def _drop_grant(apps: dict[str, Any]) -> None:
    _app_settings(apps)["grant_types"].remove("interaction_code")


def _drop_redirect(apps: dict[str, Any]) -> None:
    _app_settings(apps)["redirect_uris"] = ["https://elsewhere.test/bff/callback"]


def _drop_logout(apps: dict[str, Any]) -> None:
    _app_settings(apps)["post_logout_redirect_uris"] = []


def _cors_only(origins: dict[str, Any]) -> None:
    for origin in origins.values():
        origin["scopes"] = [{"type": "CORS"}]


def _drop_admin_scope(scopes: dict[str, Any]) -> None:
    scopes["default"] = {k: v for k, v in scopes["default"].items() if v["name"] != "admin"}


def _default_policy_on(policies: dict[str, Any]) -> None:
    for policy in policies["default"].values():
        policy["status"] = "ACTIVE"  # the developer org's "Default Policy": any scope to everyone


def _drop_claim(claims: dict[str, Any]) -> None:
    claims["default"] = {k: v for k, v in claims["default"].items() if v["name"] != "adminGroups"}


OKTA_BREAKS: list[tuple[str, str, Callable[[Any], None], str]] = [
    ("okta.grant_types", "apps", _drop_grant, "missing interaction_code"),
    ("okta.redirect_uris", "apps", _drop_redirect, "/bff/callback is not a sign-in redirect URI"),
    ("okta.logout_uris", "apps", _drop_logout, "is not a sign-out redirect URI"),
    ("okta.trusted_origin", "origins", _cors_only, "has CORS"),
    ("okta.admin_scope", "scopes", _drop_admin_scope, "scope admin missing"),
    (
        "okta.admin_rule",
        "policies",
        _default_policy_on,
        "'Default Policy'/'Default Policy Rule' grants admin",
    ),
    ("okta.claims", "claims", _drop_claim, "claim adminGroups missing"),
]


def _only_failure(results: dict[str, Result], name: str, reason: str) -> None:
    failing = [n for n, r in results.items() if not r.ok]
    assert failing == [name], "\n".join(r.line() for r in results.values())
    assert reason in results[name].detail, results[name].line()
    assert results[name].fix


@pytest.mark.parametrize(("name", "attr", "mutate", "reason"), OKTA_BREAKS, ids=[b[0] for b in OKTA_BREAKS])
def test_an_okta_org_misconfiguration_fails_its_check(
    stack: StackInfo, name: str, attr: str, mutate: Callable[[Any], None], reason: str
) -> None:
    with _changed(_prov(stack), attr, mutate):
        _only_failure(_diagnose(stack.settings), name, reason)


def test_an_unverified_event_hook_fails(stack: StackInfo) -> None:
    hooks = stack.info["okta"].event_hooks
    assert hooks
    hooks[0].verified = False
    try:
        _only_failure(_diagnose(stack.settings), "okta.event_hook", "is not verified")
    finally:
        hooks[0].verified = True


def test_a_wrong_issuer_fails_discovery(stack: StackInfo) -> None:
    issuer = stack.env["BFF_OKTA_ISSUER"]
    results = _diagnose(_settings(stack, BFF_OKTA_ISSUER=issuer.replace("/oauth2/default", "/oauth2/other")))
    assert not results["okta.discovery"].ok and "/oauth2/other" in results["okta.discovery"].detail


def test_a_wrong_client_secret_fails_client_auth(stack: StackInfo) -> None:
    results = _diagnose(_settings(stack, BFF_OKTA_CLIENT_SECRET="dev-only-insecure-wrong-secret"))
    _only_failure(results, "okta.client_auth", "invalid_client")


def test_a_locale_aem_lacks_in_the_default_fails_aem_copy(stack: StackInfo) -> None:
    results = _diagnose(_settings(stack, BFF_LOCALES="it,en", BFF_DEFAULT_LOCALE="it"))
    _only_failure(results, "aem.copy", "no fragment in the default locale")


def test_a_wrong_author_token_fails_aem_author(stack: StackInfo) -> None:
    results = _diagnose(_settings(stack, BFF_AEM_AUTHOR_TOKEN="dev-only-insecure-wrong-token"))
    _only_failure(results, "aem.author", "/author: ")
    assert "accepts" not in results["aem.author"].detail


def test_a_missing_topic_fails_aws_topic(stack: StackInfo) -> None:
    arn = stack.env["BFF_ACCOUNT_TOPIC_ARN"] + "-gone"
    results = _diagnose(_settings(stack, BFF_ACCOUNT_TOPIC_ARN=arn))
    assert not results["aws.topic"].ok and "NotFound" in results["aws.topic"].detail, results[
        "aws.topic"
    ].line()


def test_a_queue_without_its_dlq_fails_aws_queues(stack: StackInfo) -> None:
    sqs = boto3.client(
        "sqs",
        region_name=stack.settings.aws.region,
        endpoint_url=stack.settings.aws.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    url = sqs.get_queue_url(QueueName="welcome-email")["QueueUrl"]
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
        "RedrivePolicy"
    ]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    try:
        _only_failure(_diagnose(stack.settings), "aws.queues", "welcome-email has no dead-letter queue")
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})


def test_an_unreachable_session_store_fails(stack: StackInfo) -> None:
    results = _diagnose(_settings(stack, BFF_SESSION_STORE="redis://127.0.0.1:1/0"))
    _only_failure(results, "sessions.store", "redis://127.0.0.1:1/0")


def test_an_idle_timeout_past_the_lifetime_fails_sessions_ttl(stack: StackInfo) -> None:
    results = _diagnose(_settings(stack, BFF_SESSION_IDLE_TIMEOUT="7200", BFF_SESSION_LIFETIME="3600"))
    _only_failure(results, "sessions.ttl", "idle timeout 7200s > lifetime 3600s")


def test_a_weak_secret_key_fails_secrets_keys(stack: StackInfo) -> None:
    results = _diagnose(_settings(stack, BFF_SECRET_KEYS="ab" * 20))
    _only_failure(results, "secrets.keys", "only 2 distinct characters")


def test_exit_code_is_1_when_a_check_fails(stack: StackInfo, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        asyncio.run(run(_settings(stack, BFF_SESSION_IDLE_TIMEOUT="7200", BFF_SESSION_LIFETIME="3600"))) == 1
    )
    out = capsys.readouterr().out
    assert "FAIL sessions.ttl" in out and "-> fix:" in out and "failing: sessions.ttl" in out


def test_bff_dev_doctor_reads_the_dev_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``bff dev-doctor`` builds the embedded dev settings for its ``--port`` and runs every check:
    nothing here serves the BFF on port 1, so its redirect URI is no app's and the run fails
    (whatever else a shared machine runs on the dev ports), line by line, never a traceback."""
    from bff.cli import main

    code = main(["dev-doctor", "--port", "1", "--data-dir", str(tmp_path), "--timeout", "2"])
    out = capsys.readouterr().out
    assert code == 1 and f"of {len(CHECK_NAMES)} checks passed" in out
    assert len([line for line in out.splitlines() if line.startswith(("ok ", "FAIL "))]) == len(CHECK_NAMES)
