"""A test-sized soak: a real daemon, the five replica sites every few seconds, faults toggled, then SIGTERM.

`speech-archive soak --minutes N` runs the same for as long as wanted (benchmarks/soak.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import run_soak

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def test_two_minutes_of_daemon_with_faults_hold(tmp_path: Path) -> None:
    report = run_soak(2.0, tmp_path, interval=4, warm_up=40)
    print("\n".join(report.lines()))
    assert report.problems() == [], "\n".join(report.lines())
    assert sum(report.started.values()) >= 5 * 8, "every site ran many times"
    assert report.faults >= 15
    assert report.stop_seconds < 10 + 5, "SIGTERM: stopped within shutdown_grace"
