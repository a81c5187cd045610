"""Process-level tuning the proxy component applies at start-up (bff.proxy.component.tune_gc)."""

from __future__ import annotations

import gc

import pytest

from bff.proxy import component


def test_tune_gc_freezes_the_heap_and_raises_generation_0_once(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    monkeypatch.setattr(component, "_gc_tuned", False)
    gc.set_threshold(700, *before[1:])
    try:
        component.tune_gc()
        assert gc.get_freeze_count() > 1000  # modules, settings... out of the collector's sight
        assert gc.get_threshold()[0] == component.GC_GEN0_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        gc.set_threshold(800, *before[1:])
        component.tune_gc()  # once per process: a second start leaves the settings alone
        assert gc.get_threshold()[0] == 800
    finally:
        gc.set_threshold(*before)
