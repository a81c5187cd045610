"""A short run of the soak harness (benchmarks/soak.py: 5 s at c=8) so it cannot rot: every kind
of traffic flows, the sign-ins and the refresh wave happen, the verdict and figures are printed.
(The real run is 60 s at c=64, by hand: docs/operations.md has its figures.)"""

from __future__ import annotations

import json
import subprocess
import sys

from bff.settings import REPO_ROOT


def test_a_short_soak_run_passes() -> None:
    run = subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "soak.py"),
            "--seconds",
            "5",
            "--concurrency",
            "8",
            "--warmup",
            "6",
            "--sessions",
            "4",
            "--token-ttl",
            "8",
            "--rss-tolerance",
            "1.0",
        ],  # 6 s of warm-up is too short to judge memory; the 60 s run does
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO_ROOT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("SOAK "))
    figures = json.loads(line[5:])
    assert figures["pass"] is True and figures["errors"] == 0 and figures["5xx"] == 0
    assert set(figures["mix"]) == {"api", "copy-cached", "copy-uncached", "user"}
    assert figures["sign_ins"] >= 1 and figures["fds_end"] > 0 and figures["rss_end_mib"] > 0
