"""The end-to-end harness: the local stack in a background thread, one headless Chromium per
session, and a watcher per page that records console errors, uncaught exceptions, CSP
violations and server errors so each test can fail on any of them.

The stack is ``bff_dev.devstack.run_stack`` on free ports (the same parts as ``bff dev``) in its
own thread and event loop; Playwright's sync API drives Debian's Chromium from the test thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Response

from bff.settings import REPO_ROOT
from bff_dev.devstack import StackInfo, run_stack
from bff_dev.serving import free_ports

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "Passw0rd!"


class StackThread:
    """``run_stack`` in a daemon thread with its own loop; ``start()`` blocks until it is up."""

    def __init__(self, data_dir: Path, env_overrides: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env_overrides = env_overrides or {}
        self.info: StackInfo | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="e2e-stack", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with run_stack(free_ports(), self.data_dir, env_overrides=self.env_overrides) as info:
            self.info = info
            self._ready.set()
            await self._stop.wait()

    def start(self, timeout: float = 60.0) -> StackInfo:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the local stack did not start in time")
        if self.error is not None or self.info is None:
            raise RuntimeError(f"the local stack failed to start: {self.error!r}") from self.error
        return self.info

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the stack's loop (e.g. to read a twin's state)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


class CspReportCapture(logging.Handler):
    """Collects the CSP reports the BFF receives at /bff/csp-report (its log lines)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("CSP violation"):
            self.records.append(message)


@contextlib.contextmanager
def capture_csp_reports() -> Iterator[CspReportCapture]:
    handler = CspReportCapture()
    logger = logging.getLogger("bff.spa")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


_CSP_INIT = """
(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(
      `${e.effectiveDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
  });
})();
"""


@dataclass
class PageWatch:
    """Everything that went wrong on the BFF's pages (the Okta twin's pages are not the SPA)."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))
        page.on("response", self._response)
        return page

    def _ours(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def _console(self, msg: ConsoleMessage) -> None:
        text = msg.text
        where = msg.location.get("url", "") if msg.location else ""
        if msg.type == "warning":
            self.warnings.append(text)
        if msg.type != "error":
            return
        if "Content Security Policy" in text or "Refused to" in text or "TrustedHTML" in text:
            self.csp.append(text)
            return
        # Chrome logs every 4xx/5xx fetch as "Failed to load resource". Expected answers (401
        # when signed out, 422 validation) are behaviour under test; 5xx are caught below.
        if text.startswith("Failed to load resource"):
            return
        if self._ours(where) or not where:
            self.console_errors.append(f"{where}: {text}")

    def _response(self, response: Response) -> None:
        if response.status >= 500 and self._ours(response.url):
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def collect_dom_violations(self, page: Page) -> None:
        with contextlib.suppress(Exception):
            if self._ours(page.url):
                found = page.evaluate("window.__cspViolations || []")
                self.csp.extend(v for v in found if v not in self.csp)

    def problems(self) -> list[str]:
        return ([f"console error: {e}" for e in self.console_errors]
                + [f"uncaught: {e}" for e in self.page_errors]
                + [f"CSP violation: {e}" for e in self.csp]
                + [f"server error: {e}" for e in self.server_errors])


CSP_INIT_SCRIPT = _CSP_INIT


def screenshot(page: Page, test_name: str, screen: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{test_name}--{screen}")[:150]
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
