"""An external Dask cluster for the benchmark's ``--cluster`` entry: ``dask scheduler`` and
N ``dask worker --nthreads 1`` started as separate processes (not children of the
measured run, as on a real cluster), and their CPU seconds and peak RSS while a run
uses them.

The scheduler and the workers preload the modules the local pipeline imports before its
clock starts (:data:`benchmarks.pipeline._IMPORTS`), as a long-lived cluster has them
loaded: the measured run pays for the computation, not for the cluster's first imports.
The scheduler imports what the tasks of a graph refer to when it unpickles the graph:
without the preload, the run's first graph waited for it to import dask.array and the
engine (benchmarks/README.md, "Fourteenth round").
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: seconds to wait for the scheduler's address file and for every worker
START_TIMEOUT = 120.0


@dataclass
class ExternalCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)


@contextlib.contextmanager
def external_cluster(
    n_workers: int, *, env: dict[str, str], preload: tuple[str, ...] = ()
) -> Iterator[ExternalCluster]:
    """A scheduler on 127.0.0.1 and ``n_workers`` single-threaded worker processes
    (no nanny), each preloading the modules ``preload`` names; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-cluster-") as tmp:
        address_file = Path(tmp) / "scheduler.json"
        logs = [open(Path(tmp) / f"p{i}.log", "wb") for i in range(n_workers + 1)]  # noqa: SIM115
        preloads = [option for name in preload for option in ("--preload", name)]
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(address_file), *preloads],
            env=env, stdout=logs[0], stderr=subprocess.STDOUT,
        )  # fmt: skip
        cluster = ExternalCluster("", scheduler)
        try:
            cluster.address = _wait_for_address(address_file, scheduler)
            options = ["--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0"]
            options += preloads
            worker = [sys.executable, "-m", "distributed.cli.dask_worker", cluster.address]
            for i in range(n_workers):
                log = logs[i + 1]
                proc = subprocess.Popen([*worker, *options], env=env, stdout=log, stderr=log)
                cluster.workers.append(proc)
            _wait_for_workers(cluster.address, n_workers)
            yield cluster
        finally:
            for proc in [*cluster.workers, scheduler]:
                proc.terminate()
            for proc in [*cluster.workers, scheduler]:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for log in logs:
                log.close()


def _wait_for_address(path: Path, scheduler: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {scheduler.returncode}")
        with contextlib.suppress(OSError, ValueError, KeyError):
            return str(json.loads(path.read_text(encoding="utf-8"))["address"])
        time.sleep(0.2)
    raise RuntimeError(f"dask scheduler wrote no address within {START_TIMEOUT:g} s")


def _wait_for_workers(address: str, n_workers: int) -> None:
    from dask.distributed import Client

    with Client(address, timeout=START_TIMEOUT, set_as_default=False) as client:
        client.wait_for_workers(n_workers, timeout=START_TIMEOUT)


def transfers(address: str) -> dict[str, float]:
    """What the cluster's workers have sent so far (to each other and to clients):
    MiB and number of transfers (distributed's ``transfer_outgoing_*_total``)."""
    from dask.distributed import Client

    def sent(dask_worker: Any) -> tuple[int, int]:
        return dask_worker.transfer_outgoing_bytes_total, dask_worker.transfer_outgoing_count_total

    with Client(address, timeout=START_TIMEOUT, set_as_default=False) as client:
        counts = client.run(sent).values()
    return {
        "mib": round(sum(c[0] for c in counts) / 2**20, 3),
        "count": sum(c[1] for c in counts),
    }


class Usage:
    """CPU seconds and peak RSS of some processes between :meth:`start` and :meth:`stop`,
    RSS sampled every ``interval`` seconds (peak of the sum over the processes)."""

    def __init__(self, procs: list[subprocess.Popen[bytes]], interval: float = 0.05) -> None:
        import psutil

        self._procs = [psutil.Process(p.pid) for p in procs]
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._cpu0 = 0.0
        self.cpu_seconds = 0.0
        self.peak_rss_mib = 0.0

    def _cpu(self) -> float:
        total = 0.0
        for proc in self._procs:
            times = proc.cpu_times()
            total += times.user + times.system
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = sum(p.memory_info().rss for p in self._procs)
            self.peak_rss_mib = max(self.peak_rss_mib, rss / 2**20)
            self._stop.wait(self._interval)

    def start(self) -> Usage:
        self._cpu0 = self._cpu()
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        self.cpu_seconds = self._cpu() - self._cpu0
        return {
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
        }
