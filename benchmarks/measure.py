"""Run a command in a child process and measure its wall time and peak memory.

Peak RSS is the larger of (1) the peak the child reports itself (``peak_rss_mib`` in its
JSON: ``VmHWM`` of /proc/self/status, kernel-accounted for its own address space) and
(2) the largest sum of the RSS of the child and all its descendants, sampled every
``interval`` seconds with psutil (what counts when a dask LocalCluster runs worker
processes). ``wait4``'s ``ru_maxrss`` is not used: Linux carries the hiwater mark of the
address space the child had before ``exec`` - the parent's, as subprocess forks with
vfork - into it, so a child of a large parent (a pytest worker, the benchmark after
loading results to compare) reported the parent's peak (2282 MiB for a client that
needed a few hundred).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measurement:
    #: wall time of the whole child process, seconds
    process_seconds: float
    #: peak RSS in MiB (see module docstring)
    peak_rss_mib: float
    #: the JSON object the child printed as its last stdout line ({} when not asked for)
    report: dict[str, Any]


class ChildFailed(RuntimeError):
    """The measured child process exited with an error."""


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return int(total)
    except psutil.Error:
        return 0


def measure(
    argv: list[str], *, interval: float = 0.05, env: dict[str, str] | None = None,
    report: bool = True,
) -> Measurement:  # fmt: skip
    """Run ``argv``; with ``report``, its last stdout line must be a JSON object."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        peak = 0
        while True:
            pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(interval)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise ChildFailed(f"{' '.join(argv)} exited with {proc.returncode}:\n{tail}")
    lines = [line for line in stdout.strip().splitlines() if line.startswith("{")]
    if report and not lines:
        raise ChildFailed(f"{' '.join(argv)} printed no JSON report")
    found = json.loads(lines[-1]) if report else {}
    reported = float(found.get("peak_rss_mib") or 0.0) * 2**20
    return Measurement(
        process_seconds=round(elapsed, 3),
        peak_rss_mib=round(max(peak, reported) / 2**20, 1),
        report=found,
    )
