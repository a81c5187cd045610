"""The SAM template provides every variable each function's settings require.

The BFF functions must build a valid ``Settings`` from the template's environment plus the keys
their Secrets Manager secret declares; each Lambda function must receive every name
``fnlib.names.REQUIRED_ENV`` lists for it (the one place those names are defined).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from bff.settings import Settings
from fnlib.names import REQUIRED_ENV

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "template.yaml"

# Stand-ins for deploy-time values, shaped like the real thing.
PARAMETERS = {
    "Stage": "prod",
    "PublicDomainName": "app.example.com",
    "OktaIssuer": "https://acme.okta.com/oauth2/default",
    "OktaClientId": "0oa1example",
    "OktaAudience": "api://default",
    "AemPublishUrl": "https://publish-p1-e2.adobeaemcloud.com",
    "AemAuthorUrl": "https://author-p1-e2.adobeaemcloud.com",
    "AemConfig": "bff",
    "SesSender": "no-reply@example.com",
    "ComplianceApiUrl": "https://compliance.example.com",
    "MarketoIdentityUrl": "https://123-abc-456.mktorest.com/identity",
    "MarketoRestUrl": "https://123-abc-456.mktorest.com",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::Partition": "aws",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, matches = decode(str(TEMPLATE))
    assert not matches, matches
    assert tpl is not None
    return dict(tpl)


def _resolve(value: Any, resources: dict[str, Any]) -> Any:
    """Resolve the intrinsic functions the environments use into deploy-like strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            if arg in PARAMETERS:
                return PARAMETERS[arg]
            if arg == "AWS::NoValue":
                return None
            kind = resources[arg]["Type"]
            if kind == "AWS::SNS::Topic":
                return f"arn:aws:sns:eu-west-1:123456789012:{arg}"
            if kind == "AWS::SecretsManager::Secret":
                return f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{arg}"
            return f"{arg}-physical-name"
        if fn == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            return re.sub(
                r"\$\{([^}]+)\}", lambda m: str(_resolve({"Ref": m.group(1).split(".")[0]}, resources)), text
            )
        if fn == "Fn::GetAtt":
            return f"{arg[0]}-{arg[1]}"
        if fn == "Fn::If":
            return _resolve(arg[1], resources)
        if fn == "Fn::Select":
            return _resolve(arg[1], resources)[int(arg[0])]
        if fn == "Fn::Split":
            return _resolve(arg[1], resources).split(arg[0])
    raise AssertionError(f"unsupported intrinsic in an environment: {value!r}")


def _function_env(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    resources = template["Resources"]
    merged: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    merged.update(resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {}))
    out: dict[str, str] = {}
    for key, raw in merged.items():
        value = _resolve(raw, resources)
        if value is not None:
            out[key] = str(value)
    return out


def _secret_keys(template: dict[str, Any], secret_id: str) -> set[str]:
    props = template["Resources"][secret_id]["Properties"]
    if "GenerateSecretString" in props:
        gen = props["GenerateSecretString"]
        return set(json.loads(gen["SecretStringTemplate"])) | {gen["GenerateStringKey"]}
    return set(json.loads(props["SecretString"]))


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


@pytest.mark.parametrize("logical_id", ["BffFunction", "OutboxRelayFunction"])
def test_bff_functions_build_valid_settings(template: dict[str, Any], logical_id: str) -> None:
    env = _function_env(template, logical_id)
    secret_arn = env["BFF_SECRETS_ARN"]
    secret_id = secret_arn.rsplit(":", 1)[-1]
    for key in _secret_keys(template, secret_id):
        env.setdefault(key, "s" * 48)  # what an operator stores in the secret
    settings = Settings.from_env(env)  # raises ConfigError naming each missing/invalid variable
    assert settings.session.store.startswith("dynamodb://")
    assert settings.public_url == "https://app.example.com"
    # Lambda's file system is read-only but /tmp: nothing durable may be sqlite there.
    assert not settings.signup.outbox.startswith("sqlite"), "the outbox must be durable across instances"
    if settings.proxy.routes_file:
        # The packaged policy file (Makefile: infra/routes.toml -> /var/task/infra/routes.toml)
        # must be complete once the template's BFF_API_UPSTREAMS fills in where upstreams live.
        from bff.proxy.policy import load_policy

        assert settings.proxy.routes_file == "/var/task/infra/routes.toml"
        policy = load_policy(str(TEMPLATE.parent / "routes.toml"),
                             upstream_overrides=settings.proxy.upstream_urls)
        assert all(route.upstream.url or route.upstream.lambda_arn for route in policy.routes)


def test_every_lambda_function_gets_its_required_environment(template: dict[str, Any]) -> None:
    handlers = {fn["Properties"]["Handler"].split(".")[0]: lid for lid, fn in _functions(template).items()}
    for function, required in REQUIRED_ENV.items():
        assert function in handlers, f"{function} has no function in the template"
        env = set(_function_env(template, handlers[function]))
        secrets: set[str] = set()
        if "SECRETS_ARN" in env:
            secret_ref = template["Resources"][handlers[function]]["Properties"]["Environment"]["Variables"][
                "SECRETS_ARN"
            ]["Ref"]
            secrets = _secret_keys(template, secret_ref)
        missing = set(required) - env - secrets
        assert not missing, f"{function}: the template does not provide {sorted(missing)}"


def test_every_lambda_handler_module_exists(template: dict[str, Any]) -> None:
    """A function built by SAM's own builder ships its CodeUri: the handler module must be there.
    A makefile-built one ships what ``make build-<LogicalId>`` (the Makefile at its CodeUri) puts
    in the artifact: the target must exist (tests/integration/ops/test_packaging.py builds the
    artifacts and finds each handler in its own)."""
    root = TEMPLATE.parent
    for logical_id, fn in _functions(template).items():
        props = fn["Properties"]
        code = (root / props["CodeUri"]).resolve()
        if fn.get("Metadata", {}).get("BuildMethod") == "makefile":
            makefile = (code / "Makefile").read_text()
            rule = re.compile(rf"^[^\t#:]*(?<![\w-])build-{logical_id}(?![\w-])[^:]*:", re.MULTILINE)
            assert rule.search(makefile), f"{logical_id}: the Makefile has no build-{logical_id} target"
            continue
        module, _, func = props["Handler"].rpartition(".")
        path = code / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{logical_id}: handler module {path} is missing"


def test_subscriber_queues_report_batch_item_failures(template: dict[str, Any]) -> None:
    sqs_functions = 0
    for fn in _functions(template).values():
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                sqs_functions += 1
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs_functions == 3


def test_subscriptions_use_raw_delivery_and_filter_policies(template: dict[str, Any]) -> None:
    """Every subscriber queue filters on eventType: the AccountCreated subscribers never receive
    an account notice, and the notices' queue receives nothing else (the same lists as the local
    topology, fnlib.names)."""
    from fnlib import names

    subs = {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sqs"
    }
    assert {name: props["FilterPolicy"] for name, props in subs.items()} == {
        "WelcomeEmailSubscription": {"eventType": ["AccountCreated"]},
        "AccountValidationSubscription": {"eventType": ["AccountCreated", "ProfileUpdated"]},
        "AccountNoticesSubscription": {"eventType": list(names.ACCOUNT_NOTICE_TYPES)},
    }
    for props in subs.values():
        assert props["RawMessageDelivery"] is True
        assert props["FilterPolicyScope"] == "MessageAttributes"
    # the same filter policy per queue as the local topology (bff dev, the pipeline tests)
    from bff_dev.twins.aws.topology import SUBSCRIBERS

    def queue_name(props: dict[str, Any]) -> str:
        logical_id = props["Endpoint"]["Fn::GetAtt"][0]
        name = template["Resources"][logical_id]["Properties"]["QueueName"]
        return str(_resolve(name, template["Resources"])).removeprefix("bff-prod-")

    assert {queue_name(props): props["FilterPolicy"] for props in subs.values()} == {
        s.queue: s.filter_policy for s in SUBSCRIBERS}


def test_every_subscriber_dlq_has_an_alarm(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    dlqs = {name for name, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and name.endswith("DLQ")}
    watched = {
        dim["Value"]["Fn::GetAtt"][0] if isinstance(dim["Value"]["Fn::GetAtt"], list)
        else dim["Value"]["Fn::GetAtt"].split(".")[0]
        for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
        for dim in r["Properties"].get("Dimensions", []) if dim["Name"] == "QueueName"
    }
    assert dlqs == {"WelcomeEmailDLQ", "AccountValidationDLQ", "AccountNoticesDLQ"}
    assert dlqs <= watched


def test_no_secret_values_in_the_template() -> None:
    text = TEMPLATE.read_text()
    assert not re.search(
        r"(?i)(SSWS\s+\w{10,}|BEGIN [A-Z ]*PRIVATE KEY|client_secret\"\s*:\s*\"[^\"]+)", text
    )
