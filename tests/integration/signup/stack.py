"""The sign-up stack over real loopback servers: the Okta twin (Management API, org
authorization server, event hooks), moto in server mode (the account topic + an SQS probe
queue), and the BFF under uvicorn, with the twin's event hook pointing at it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import RSAKey
from starlette.applications import Starlette

from bff.app import create_app
from bff.settings import Settings
from bff.signup.service import SignupService
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.okta import OktaTwin
from tests.integration.signup.moto_topic import REGION, MotoTopic, moto_topic
from tests.support.env import make_settings, organisation_settings
from tests.support.login import register_bff_client
from tests.support.okta import running_okta_twin

API_TOKEN = "it-ssws-token-0123456789abcdef"
HOOK_SECRET = "it-hook-secret-0123456789abcdef"


@dataclass
class Stack:
    okta: OktaTwin
    moto: MotoTopic
    app: Starlette
    settings: Settings
    http: httpx.AsyncClient  # a browser-ish client of the BFF (CSRF headers added by post_signup)

    @property
    def signup(self) -> SignupService:
        return self.app.state.services.signup  # type: ignore[no-any-return]

    def csrf(self) -> dict[str, str]:
        return {"X-CSRF": "1", "Origin": self.settings.public_origin, "Sec-Fetch-Site": "same-origin"}

    async def post_signup(self, body: Any, **headers: str) -> httpx.Response:
        return await self.http.post(
            "/bff/signup",
            content=json.dumps(body).encode(),
            headers={**self.csrf(), "Content-Type": "application/json", **headers},
        )


@contextlib.asynccontextmanager
async def signup_stack(
    tmp_path: Path, *, service_app: bool = False, hook: bool = True, span_exporter: Any = None, **env: str
) -> AsyncIterator[Stack]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with running_okta_twin() as okta:
        with moto_topic() as moto:
            values = {
                "BFF_PUBLIC_URL": public,
                "BFF_OKTA_ISSUER": okta.issuer,
                "BFF_OKTA_ORG_URL": okta.base_url,
                "BFF_OKTA_HOOK_SECRET": HOOK_SECRET,
                "BFF_ACCOUNT_TOPIC_ARN": moto.topic_arn,
                "BFF_AWS_REGION": REGION,
                "BFF_AWS_ENDPOINT_URL": moto.url,
                "BFF_OUTBOX": f"sqlite:///{tmp_path / 'outbox.sqlite3'}",
            }
            if service_app:
                key = RSAKey.generate_key(2048, parameters={"kid": "mgmt-1"})
                okta.register_service_app(
                    "0oabffmgmt",
                    jwks={"keys": [key.as_dict(private=False)]},
                    scopes=("okta.users.manage", "okta.users.read"),
                )
                values["BFF_OKTA_MGMT_CLIENT_ID"] = "0oabffmgmt"
                values["BFF_OKTA_MGMT_PRIVATE_KEY"] = key.as_pem(private=True).decode()
            else:
                okta.add_api_token(API_TOKEN)
                values["BFF_OKTA_API_TOKEN"] = API_TOKEN
            if span_exporter is not None:  # every trace of the journey, not the default ratio
                values["OTEL_TRACES_SAMPLER"] = "parentbased_always_on"
            values.update(env)
            # The Users-API path with the typed company name (organisation mode, as `bff dev`).
            settings = (organisation_settings(**values) if values.get("BFF_SIGNUP_ORG", "organisation")
                        == "organisation" else make_settings(**values))
            register_bff_client(okta, settings)
            if hook:
                okta.register_event_hook(
                    f"{public}/bff/hooks/okta", auth_header="Authorization", auth_value=HOOK_SECRET,
                    events=("user.lifecycle.create", "user.lifecycle.activate"),
                )
            app = create_app(settings, span_exporter=span_exporter)
            async with contextlib.AsyncExitStack() as stack:
                await serve_asgi(stack, app, port, name="bff-signup-it")
                async with httpx.AsyncClient(base_url=public, timeout=15) as http:
                    yield Stack(okta, moto, app, settings, http)
