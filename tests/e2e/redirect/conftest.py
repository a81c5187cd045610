"""``BFF_SIGNIN_MODE=redirect``: the sign-in screen is a button (or the work-email form, with
IdP discovery) to ``/bff/login`` and Okta's own page. Its own stack, for this folder only (both
fixtures are overridden, so the embedded stack's cached ``stack`` is never reused here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bff_dev.devstack import StackInfo
from tests.e2e.conftest import E2E_ENV
from tests.e2e.harness import StackThread


@pytest.fixture(scope="package")
def stack_thread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackThread]:
    thread = StackThread(tmp_path_factory.mktemp("e2e-redirect-stack"),
                         env_overrides={**E2E_ENV, "BFF_SIGNIN_MODE": "redirect",
                                        # the production default: the sign-up form asks for a code
                                        "BFF_SIGNUP_ORG": "invitation"})
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="package")
def stack(stack_thread: StackThread) -> StackInfo:
    assert stack_thread.info is not None
    assert stack_thread.info.settings.signin.mode == "redirect"
    return stack_thread.info
