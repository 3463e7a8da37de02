"""CPU time and resident memory of a process and its descendants, read from Linux's /proc.

Hand-written rather than psutil: three /proc files and a thread are all the
crawl benchmark needs, and a dependency for them is not worth it. Off Linux
every figure reads as zero.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (from ``/proc/PID/task/*/children``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat


def rss_bytes(pid: int) -> int:
    """Resident set of one live process, in bytes (0 when it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set of one live process, in bytes: pages shared after a fork counted once across the
    processes that share them (``/proc/PID/smaps_rollup``; 0 when it is gone or the kernel lacks it)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def own_peak_bytes() -> int:
    """This process's own peak resident set (VmHWM), in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TreeSampler:
    """Samples a process tree's total resident set every ``interval`` seconds, in a thread; keeps the peak.

    The total of the tree at one moment is what the machine must hold; the sum
    of each process's own peak would count peaks that never coincided. The RSS
    total counts the pages forked workers share with their parent once per
    process (an upper bound); the PSS total counts them once.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.pid)
            self.peak = max(self.peak, sum(rss_bytes(p) for p in pids))
            self.peak_pss = max(self.peak_pss, sum(pss_bytes(p) for p in pids))
            self.processes = max(self.processes, len(pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
