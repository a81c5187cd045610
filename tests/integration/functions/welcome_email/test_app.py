"""welcome_email.app.handler on real SQS events from moto, SES on moto, copy from the AEM twin."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.aem import AemTwin
from bff_dev.twins.okta import OktaTwin
from bff_dev.twins.workers.pipeline import Pipeline, start_pipeline
from tests.integration.pipeline.fixtures import OKTA_TOKEN, deliver, invoke

QUEUE = "welcome-email"


@pytest.fixture
async def aem() -> AsyncIterator[AemTwin]:
    port = free_port()
    twin = AemTwin()
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, twin.app, port, name="aem-twin")
        twin.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        yield twin


@pytest.fixture
async def pipeline(moto_url: str, okta: OktaTwin, aem: AemTwin) -> AsyncIterator[Pipeline]:
    async with start_pipeline(
        okta_url=okta.base_url,
        okta_token=OKTA_TOKEN,
        endpoint_url=moto_url,
        aem_url=aem.base_url,  # type: ignore[attr-defined]
        app_url="https://portal.example.test",
        run_workers=False,
    ) as p:
        yield p


def ev(pipeline: Pipeline, **fields: Any) -> dict[str, Any]:
    return pipeline.account_created(**fields)


async def test_copy_comes_from_aem_publish_first(pipeline: Pipeline, aem: AemTwin) -> None:
    aem.set_copy(
        "publish",
        "de",
        "email",
        {
            "welcome.subject": "Hallo aus AEM, {firstName}",
            "welcome.heading": "Hallo!",
            "welcome.body": "Frisch aus AEM.",
        },
    )
    event = ev(pipeline, locale="de", firstName="Lena")
    response = await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, [event]))
    assert response == {"batchItemFailures": []}
    (mail,) = await pipeline.sent_emails(event["login"])
    assert mail.subject == "Hallo aus AEM, Lena" and "Frisch aus AEM." in mail.text
    assert (
        "https://portal.example.test/signin" in mail.text
        and "https://portal.example.test/signin" in mail.html
    )
    # keys the AEM fragment lacks come from the bundled German copy, not English
    assert "Das Kundenportal-Team" in mail.text or "Kundenportal" in mail.text
    assert aem.count("publish", journey="email", locale="de") == 1


async def test_aem_down_falls_back_to_the_bundled_copy(pipeline: Pipeline, aem: AemTwin) -> None:
    aem.knobs["publish"].mode = "down"
    event = ev(pipeline, locale="es", firstName="Lucía")
    assert await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, [event])) == {
        "batchItemFailures": []
    }
    (mail,) = await pipeline.sent_emails(event["login"])
    assert "Lucía" in mail.subject and mail.subject != "Welcome to Customer Portal, Lucía"


@pytest.mark.parametrize(("locale", "language"), [("fr-BE", "fr"), ("pt-BR", "en"), ("ja", "ja")])
async def test_locale_fallback(pipeline: Pipeline, locale: str, language: str) -> None:
    event = ev(pipeline, locale=locale)
    await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, [event]))
    (mail,) = await pipeline.sent_emails(event["login"])
    assert f'<html lang="{language}">' in mail.html


async def test_partial_batch_failure_and_in_batch_duplicates(pipeline: Pipeline) -> None:
    first = ev(pipeline, firstName="Zoë")
    poison = '{"eventType": "AccountCreated"}'
    event = await deliver(pipeline, QUEUE, [first, poison, first])
    assert len(event["Records"]) == 3
    poison_id = next(r["messageId"] for r in event["Records"] if r["body"] == poison)
    response = await invoke(pipeline, "welcome_email", event)
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert len(await pipeline.sent_emails(first["login"])) == 1  # the duplicate sent nothing


async def test_redelivery_after_success_sends_nothing(pipeline: Pipeline) -> None:
    event = ev(pipeline)
    await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, [event]))
    assert await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, [event])) == {
        "batchItemFailures": []
    }
    assert len(await pipeline.sent_emails(event["login"])) == 1


async def test_script_in_names_arrives_as_text(pipeline: Pipeline) -> None:
    event = ev(pipeline, firstName="<img src=x onerror=alert(1)>")
    await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, [event]))
    (mail,) = await pipeline.sent_emails(event["login"])
    assert "<img" not in mail.html and "&lt;img src=x onerror=alert(1)&gt;" in mail.html


async def test_every_record_failing_fails_the_invocation(pipeline: Pipeline) -> None:
    outcome = await invoke(pipeline, "welcome_email", await deliver(pipeline, QUEUE, ["nope", "[]"]))
    assert isinstance(outcome, Exception) and "All records failed" in str(outcome)
