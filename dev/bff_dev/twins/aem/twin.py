"""A local twin of AEM headless delivery (publish and author tiers), speaking AEM's wire format.

Serves the persisted queries found in ``content/persisted-queries/`` (only ``ui-copy`` has
semantics here) from the bundled copy in ``content/copy/``:

- ``GET /graphql/execute.json/{config}/ui-copy;journey=..;locale=..`` in both Adobe's encoded
  form (``ui-copy%3Bjourney%3Dsignin%3Blocale%3Den;``) and the unencoded one, answering
  ``{"data":{"uiCopyList":{"items":[{"_path","_variation","journey","strings"}]}}}`` with AEM's
  default cache headers (``Cache-Control: max-age=60`` + ``Surrogate-Control``);
- AEM's error behaviour: HTTP 200 with graphql-java ``errors`` for a bad variable, 404
  ``No suitable endpoint found`` for an unknown configuration or query, an empty ``items`` list
  for a locale without a fragment (AEM has no locale fallback);
- the author tier under ``/author``: requires ``Authorization: Bearer <token>`` and serves the
  published copy overlaid with the drafts of ``content/drafts/``.

Test and dev knobs, per tier (``twin.knobs["publish"]`` / ``["author"]``): ``mode`` (``ok``,
``down`` → 503, ``garbage`` → a 200 HTML page, ``errors`` → 200 + ``errors``), ``delay``
(seconds before answering), ``fail_next`` (the next N calls answer 503). ``twin.calls`` records
every execute call. Over HTTP for other processes: ``GET/POST /__twin/state``,
``POST /__twin/reset``, and ``PUT|PATCH /__twin/fragments/{tier}/{locale}/{journey}``
(replace or merge a fragment's strings; a publish-tier edit sends an
``aem.sites.contentFragment.published`` CloudEvent to the configured webhook, an author-tier
edit a ``modified`` one).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bff.content.bundle import CONTENT_DIR, JOURNEYS, CopyBundle
from bff.content.locales import to_aem
from bff.http.negotiation import language_tag

log = logging.getLogger("bff_dev.twins.aem")

TIERS = ("publish", "author")
MODES = ("ok", "down", "garbage", "errors")
MODEL_PATH = "/conf/{config}/settings/dam/cfm/models/uiCopy"
#: AEM's default cache headers for persisted queries, per tier (reference: aem.md).
CACHE_HEADERS = {
    "publish": {"Cache-Control": "max-age=60",
                "Surrogate-Control": "max-age=7200, stale-while-revalidate=86400, stale-if-error=86400"},
    "author": {"Cache-Control": "max-age=60",
               "Surrogate-Control": "max-age=60, stale-while-revalidate=86400, stale-if-error=86400"},
}
_JSON = "application/json;charset=utf-8"

Store = dict[tuple[str, str], dict[str, dict[str, str]]]  # (aem locale, journey) -> variation -> strings


@dataclass
class Knobs:
    mode: str = "ok"
    delay: float = 0.0
    fail_next: int = 0


@dataclass
class Call:
    tier: str
    query: str
    variables: dict[str, str]
    status: int


@dataclass
class Webhook:
    url: str
    secret: str | None = None
    client_id: str | None = None  # the recipient Adobe I/O names in each event (recipientclientid)


def _graphql_error(message: str, classification: str = "ValidationError") -> dict[str, Any]:
    return {"errors": [{"message": message, "locations": [{"line": 1, "column": 8}],
                        "extensions": {"classification": classification}}]}


class AemTwin:
    def __init__(self, content_dir: Path = CONTENT_DIR, *, config: str = "bff", site: str = "bff",
                 author_token: str | None = None, webhook: Webhook | None = None,
                 http: httpx.AsyncClient | None = None) -> None:
        self.content_dir = content_dir
        self.config = config
        self.site = site
        self.author_token = author_token
        self.webhook = webhook
        self._http = http
        self.source = f"urn:uuid:{uuid.uuid4()}"
        self.queries = {p.stem: p.read_text(encoding="utf-8")
                        for p in sorted((content_dir / "persisted-queries").glob("*.graphql"))}
        self.knobs: dict[str, Knobs] = {tier: Knobs() for tier in TIERS}
        self.calls: list[Call] = []
        self.events_sent: list[dict[str, Any]] = []
        self.stores: dict[str, Store] = {}
        self.reset_content()
        self.app = Starlette(routes=[
            Route("/graphql/execute.json/{rest:path}", self._execute_publish, methods=["GET"]),
            Route("/author/graphql/execute.json/{rest:path}", self._execute_author, methods=["GET"]),
            Route("/graphql/list.json/{config}", self._list_publish, methods=["GET"]),
            Route("/author/graphql/list.json/{config}", self._list_author, methods=["GET"]),
            Route("/__twin/state", self._state, methods=["GET", "POST"]),
            Route("/__twin/reset", self._reset, methods=["POST"]),
            Route("/__twin/fragments/{tier}/{locale}/{journey}", self._put_fragment,
                  methods=["PUT", "PATCH"]),
        ])

    # -- content -----------------------------------------------------------------------------

    def reset_content(self) -> None:
        bundle = CopyBundle.load(self.content_dir)
        publish: Store = {}
        for locale, journeys in bundle.copy.items():
            for journey, strings in journeys.items():
                publish[(to_aem(locale), journey)] = {"master": dict(strings)}
        author = copy.deepcopy(publish)
        for locale, journeys in bundle.drafts.items():
            for journey, strings in journeys.items():
                variations = author.setdefault((to_aem(locale), journey), {"master": {}})
                variations["master"].update(strings)
        self.stores = {"publish": publish, "author": author}

    def set_copy(self, tier: str, locale: str, journey: str, strings: dict[str, str] | None,
                 variation: str = "master") -> None:
        """Replace (or with None delete) a fragment's strings in ``tier``."""
        key = (to_aem(locale), journey)
        store = self.stores[tier]
        if strings is None:
            store.pop(key, None)
        else:
            store.setdefault(key, {})[variation] = dict(strings)

    def fragment_path(self, aem_locale: str, journey: str) -> str:
        return f"/content/dam/{self.site}/{aem_locale}/ui-copy/{journey}"

    def count(self, tier: str = "publish", **variables: str) -> int:
        """How many execute calls reached ``tier`` (optionally with these variable values)."""
        return sum(1 for c in self.calls if c.tier == tier
                   and all(c.variables.get(k) == v for k, v in variables.items()))

    def reset(self) -> None:
        self.knobs = {tier: Knobs() for tier in TIERS}
        self.calls.clear()
        self.events_sent.clear()
        self.reset_content()

    # -- persisted queries -------------------------------------------------------------------

    async def _execute_publish(self, request: Request) -> Response:
        return await self._execute(request, "publish", "/graphql/execute.json/")

    async def _execute_author(self, request: Request) -> Response:
        if not self._author_ok(request):
            denied = PlainTextResponse("Unauthorized", status_code=401,
                                       headers={"WWW-Authenticate": "Bearer"})
            return self._record("author", request.path_params["rest"].split(";", 1)[0], {}, denied)
        return await self._execute(request, "author", "/author/graphql/execute.json/")

    def _author_ok(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return bool(self.author_token) and auth == f"Bearer {self.author_token}"

    async def _execute(self, request: Request, tier: str, prefix: str) -> Response:
        knobs = self.knobs[tier]
        if knobs.delay:
            await asyncio.sleep(knobs.delay)
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        raw = raw_path.decode("latin-1")
        rest = raw[len(prefix):] if raw.startswith(prefix) else raw.split("execute.json/", 1)[-1]
        config_enc, _, query_enc = rest.partition("/")
        name, *pairs = unquote(query_enc).split(";")
        variables: dict[str, str] = {}
        for pair in pairs:
            if not pair:
                continue
            var, eq, value = pair.partition("=")
            if not eq or not var:
                return self._record(tier, name, variables, PlainTextResponse("Bad suffix", status_code=400))
            variables[var] = value
        if knobs.fail_next > 0 or knobs.mode == "down":
            knobs.fail_next = max(0, knobs.fail_next - 1)
            unavailable = PlainTextResponse("Service Unavailable", status_code=503)
            return self._record(tier, name, variables, unavailable)
        if unquote(config_enc) != self.config or name not in self.queries:
            return self._record(tier, name, variables,
                                PlainTextResponse("No suitable endpoint found", status_code=404))
        if knobs.mode == "garbage":
            return self._record(tier, name, variables, Response(
                "<!DOCTYPE html><html><head><title>AEM</title></head><body>Maintenance</body></html>",
                media_type="text/html"))
        headers = CACHE_HEADERS[tier]
        if knobs.mode == "errors":
            body = _graphql_error("Exception while fetching data (/uiCopyList) : simulated failure",
                                  "DataFetchingException")
            return self._record(tier, name, variables, JSONResponse(body, headers=headers, media_type=_JSON))
        if name != "ui-copy":
            empty = JSONResponse({"data": {}}, headers=headers, media_type=_JSON)
            return self._record(tier, name, variables, empty)
        return self._record(tier, name, variables,
                            JSONResponse(self._ui_copy(tier, variables), headers=headers, media_type=_JSON))

    def _ui_copy(self, tier: str, variables: dict[str, str]) -> dict[str, Any]:
        for required in ("journey", "locale"):
            if required not in variables:
                return _graphql_error(
                    f"Variable '{required}' has an invalid value: Variable '{required}' has coerced Null "
                    "value for NonNull type 'String!'")
        journey, locale = variables["journey"], variables["locale"]
        variation = variables.get("variation") or "master"
        items: list[dict[str, Any]] = []
        fragment = self.stores[tier].get((locale, journey))
        if fragment is not None:
            served = variation if variation in fragment else "master"
            strings = fragment.get(served)
            if strings is not None:
                items.append({"_path": self.fragment_path(locale, journey), "_variation": served,
                              "journey": journey, "strings": strings})
        return {"data": {"uiCopyList": {"items": items}}}

    def _record(self, tier: str, query: str, variables: dict[str, str], response: Response) -> Response:
        self.calls.append(Call(tier, query, variables, response.status_code))
        return response

    async def _list_publish(self, request: Request) -> Response:
        return self._list(request)

    async def _list_author(self, request: Request) -> Response:
        if not self._author_ok(request):
            return PlainTextResponse("Unauthorized", status_code=401)
        return self._list(request)

    def _list(self, request: Request) -> Response:
        config = request.path_params["config"]
        if config != self.config:
            return PlainTextResponse("No suitable endpoint found", status_code=404)
        queries = [{"path": {"shortForm": f"/{config}/{name}",
                             "longForm": f"/conf/{config}/settings/graphql/persistentQueries/{name}"},
                    "data": {"query": text}} for name, text in self.queries.items()]
        return JSONResponse([{"configurationName": config, "queries": queries}])

    # -- control (dev and cross-process tests) -----------------------------------------------

    async def _state(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                payload = await request.json()
            except ValueError:
                return JSONResponse({"error": "send JSON"}, status_code=400)
            tier = payload.get("tier", "publish") if isinstance(payload, dict) else None
            if tier not in TIERS:
                return JSONResponse({"error": f"tier must be one of {TIERS}"}, status_code=400)
            knobs = self.knobs[tier]
            if "mode" in payload:
                if payload["mode"] not in MODES:
                    return JSONResponse({"error": f"mode must be one of {MODES}"}, status_code=400)
                knobs.mode = payload["mode"]
            if isinstance(payload.get("delay"), int | float):
                knobs.delay = max(0.0, float(payload["delay"]))
            if isinstance(payload.get("fail_next"), int):
                knobs.fail_next = max(0, payload["fail_next"])
        return JSONResponse({
            "knobs": {t: vars(k) for t, k in self.knobs.items()},
            "calls": {t: self.count(t) for t in TIERS},
            "events": len(self.events_sent),
        })

    async def _reset(self, request: Request) -> Response:
        self.reset()
        return Response(status_code=204)

    async def _put_fragment(self, request: Request) -> Response:
        tier, journey = request.path_params["tier"], request.path_params["journey"]
        locale = language_tag(request.path_params["locale"])
        if tier not in TIERS or journey not in JOURNEYS or locale is None:
            return JSONResponse({"error": "unknown tier, journey or locale"}, status_code=404)
        try:
            strings = await request.json()
        except ValueError:
            return JSONResponse({"error": "send a JSON object of strings"}, status_code=400)
        if not isinstance(strings, dict) or not all(isinstance(v, str) for v in strings.values()):
            return JSONResponse({"error": "send a JSON object of strings"}, status_code=400)
        variation = request.query_params.get("variation") or "master"
        if request.method == "PATCH":  # merge into the current strings
            current = self.stores[tier].get((to_aem(locale), journey), {}).get(variation, {})
            strings = {**current, **strings}
        self.set_copy(tier, locale, journey, strings, variation)
        if tier == "publish":
            self.set_copy("author", locale, journey, strings, variation)
        event = await self.send_event("published" if tier == "publish" else "modified",
                                      self.fragment_path(to_aem(locale), journey))
        return JSONResponse({"path": self.fragment_path(to_aem(locale), journey), "event": event})

    def event(self, kind: str, path: str) -> dict[str, Any]:
        """An AEM content-fragment CloudEvent, as Adobe I/O Events delivers it."""
        return {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": self.source,
            "type": f"aem.sites.contentFragment.{kind}",
            "datacontenttype": "application/json",
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **({"recipientclientid": self.webhook.client_id}
               if self.webhook and self.webhook.client_id else {}),
            "data": {"path": path, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, path)),
                     "model": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, MODEL_PATH)),
                               "path": MODEL_PATH.format(config=self.config)}},
        }

    async def send_event(self, kind: str, path: str) -> str | None:
        """POST a CloudEvent to the configured webhook; the event id, or None without a webhook."""
        if self.webhook is None:
            return None
        event = self.event(kind, path)
        headers = {"Content-Type": "application/cloudevents+json"}
        if self.webhook.secret:
            headers["X-Webhook-Secret"] = self.webhook.secret
        client = self._http or httpx.AsyncClient(timeout=5.0)
        try:
            resp = await client.post(self.webhook.url, content=json.dumps(event), headers=headers)
            log.info("AEM twin: event %s -> %s %s", event["type"], self.webhook.url, resp.status_code)
        except httpx.HTTPError as exc:
            log.warning("AEM twin: could not deliver %s: %s", event["type"], type(exc).__name__)
        finally:
            if self._http is None:
                await client.aclose()
        self.events_sent.append(event)
        return str(event["id"])
