"""dask.distributed: a LocalCluster of N workers, or an existing scheduler - with bounded
waits, so a cluster that cannot do the work fails with one line instead of hanging.

- the scheduler address is checked before connecting (``tcp://host:port``; a bare
  ``host:port`` means tcp) and the connection attempt is bounded;
- the run waits at most ``worker_timeout`` seconds for a first worker, and checks that
  every worker can import the project (a worker in another environment would otherwise
  fail every task and only say so in its own log);
- while computing, a cluster left without workers for ``worker_timeout`` seconds ends
  the run (dask itself would wait for new workers forever).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from typing import Any

from hybrid.errors import ClusterError, UsageError

#: names of dask's single-machine schedulers ``--scheduler`` accepts
LOCAL_SCHEDULERS = ("threads", "synchronous", "sync", "single-threaded", "processes")
#: seconds to wait for the scheduler to answer
CONNECT_TIMEOUT = 10.0
#: the module every worker must be able to import to run our tasks
PROBE_MODULE = "hybrid.backends.local.run"
_HOST_PORT = re.compile(r"^[\w.\-\[\]:]+:\d{1,5}$")


def memory_limit(value: str | None, *, option: str = "--memory-limit") -> str | None:
    """A checked memory size (``2GiB``, ``1500MB``) for a LocalCluster worker."""
    if value is None:
        return None
    from dask.utils import parse_bytes

    try:
        size = parse_bytes(value)
    except (ValueError, TypeError):
        size = 0
    if size < 256 * 2**20:
        raise UsageError(f"{option} {value}: give a size of at least 256MiB, like 2GiB")
    return value


def scheduler_address(value: str | None) -> str | None:
    """The dask.distributed address in ``--scheduler``, None for a local scheduler name."""
    if value is None or value in LOCAL_SCHEDULERS:
        return None
    if "://" in value:
        scheme = value.split("://", 1)[0]
        if scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx"):
            raise UsageError(
                f"--scheduler {value}: unknown protocol '{scheme}'; use tcp://HOST:PORT"
            )
        return value
    if _HOST_PORT.match(value):
        return f"tcp://{value}"
    raise UsageError(
        f"--scheduler {value} is neither a local scheduler ({', '.join(LOCAL_SCHEDULERS)}) "
        "nor a Dask scheduler address like tcp://127.0.0.1:8786"
    )


@contextlib.contextmanager
def local_cluster(workers: int, memory_limit: str | None = None) -> Iterator[str]:
    """A LocalCluster of ``workers`` single-threaded worker processes, each limited to
    ``memory_limit`` (dask's default share of the RAM when None); its address."""
    import dask
    from dask.distributed import LocalCluster

    # forked from this process, the workers start with the engine's modules loaded
    # (spawned, each would import them again: seconds of CPU per worker per run); the
    # setting is read when a worker starts, so one the nanny restarts later (memory
    # limit) is spawned, never forked from a process whose threads may hold locks
    with (
        dask.config.set({"distributed.worker.multiprocessing-method": "fork"}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            # the scheduler's HTTP server starts even without a dashboard, on 8787
            # unless told otherwise: a free port, so that two clusters do not clash
            # (distributed's multi-line "Port 8787 is already in use" warning)
            dashboard_address=":0",
            memory_limit=memory_limit or "auto",
        ) as cluster,
    ):
        yield str(cluster.scheduler_address)


def connect(address: str) -> Any:
    """A client of the scheduler at ``address``; ClusterError in one line if unreachable
    within :data:`CONNECT_TIMEOUT`."""
    from dask.distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT:g} s "
            f"({type(exc).__name__}); start one with 'dask scheduler' or check --scheduler"
        ) from None


@contextlib.contextmanager
def distributed_client(settings: Any) -> Iterator[Any]:
    """A checked client: connected, with at least one worker that can run our code;
    distributed's client logger meanwhile writes to the run log, not stderr
    (:mod:`hybrid.backends.local.client_logs`)."""
    from hybrid.backends.local.client_logs import routed_client_logs

    if settings.workers:
        with (
            routed_client_logs(),
            local_cluster(settings.workers, settings.memory_limit) as address,
            connect(address) as client,
        ):
            yield client
        return
    remote = scheduler_address(settings.scheduler)
    assert remote is not None
    with routed_client_logs(), connect(remote) as client:
        try:
            check_workers(client, remote, settings.worker_timeout)
        except OSError:  # distributed's CommClosedError: the scheduler went away meanwhile
            raise _lost_scheduler() from None
        yield client


def check_workers(client: Any, address: str | None, timeout: float) -> None:
    """Fail in one line when no worker arrives or a worker cannot import the project."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        paused = _paused(client.scheduler_info().get("workers", {}))
        if paused:
            raise ClusterError(paused + f" (waited {timeout:g} s)") from None
        raise ClusterError(
            f"the Dask cluster at {address} has no workers (waited {timeout:g} s); start "
            f"some with 'dask worker {address}'"
        ) from None
    results = client.run(_import_probe, on_error="return")
    for worker, outcome in sorted(results.items()):
        if isinstance(outcome, BaseException):
            raise ClusterError(
                f"Dask worker {worker} cannot run hybrid's tasks ({type(outcome).__name__}: "
                f"{outcome}); install the project in the workers' environment (same version) "
                "and read that worker's log"
            )


def _import_probe() -> str:
    import importlib

    importlib.import_module(PROBE_MODULE)
    return "ok"


def result_while_workers_live(client: Any, future: Any, timeout: float) -> Any:
    """``future.result()``, but give up when the cluster has had no worker for ``timeout``
    seconds (the scheduler would otherwise keep the tasks waiting forever), and cancel
    the future (its tasks leave the workers) when the run is canceled."""
    from dask.distributed import wait

    from hybrid.cancellation import cancel_event

    event = cancel_event()
    alone_since: float | None = None
    while True:
        stop_if_canceled(client, future, event)
        try:
            with client.as_current():  # ``wait`` asks for the current client
                wait(future, timeout=1.0)
        except TimeoutError:
            pass
        except OSError:
            raise _lost_scheduler() from None
        except CancelledError as exc:
            raise _canceled(exc) from None
        stop_if_canceled(client, future, event)
        if future.done():
            return _result(future)
        alone_since = _check_alone(client, [future], alone_since, timeout)


def _lost_scheduler() -> ClusterError:
    return ClusterError("lost the connection to the Dask scheduler; was it stopped? read its log")


def _result(future: Any) -> Any:
    """``future.result()``; a future the cluster canceled is one line. The client cancels
    every future when it loses the scheduler (reason ``scheduler-connection-lost``,
    distributed ``client.py`` ``Client._reconnect``); a restarted scheduler cancels them
    too (``scheduler-restart``)."""
    try:
        return future.result()
    except CancelledError as exc:
        raise _canceled(exc) from None


def _canceled(exc: CancelledError) -> ClusterError:
    """The one line for distributed's Future(s)CancelledError."""
    groups = getattr(exc, "error_groups", None) or [exc]
    reason = getattr(groups[0], "reason", "unknown")
    if reason == "scheduler-connection-lost":
        return _lost_scheduler()
    return ClusterError(
        f"the Dask scheduler canceled the run's tasks (reason: {reason}); read its log"
    )


def _check_alone(
    client: Any, futures: list[Any], since: float | None, timeout: float
) -> float | None:
    """When the cluster has no worker: since when (None when it has some); after
    ``timeout`` seconds alone, cancel ``futures`` and raise ClusterError."""
    try:
        workers = client.scheduler_info().get("workers", {})
    except (OSError, TimeoutError):
        raise _lost_scheduler() from None
    if any(w.get("status", "running") == "running" for w in workers.values()):
        return None
    since = since or time.monotonic()
    if time.monotonic() - since > timeout:
        client.cancel(futures)
        paused = _paused(workers)
        raise ClusterError(
            f"{paused}, none resumed within {timeout:g} s; the run was stopped"
            if paused
            else f"every Dask worker left and none came back within {timeout:g} s; the run "
            "was stopped (read the workers' logs: killed for memory?)"
        )
    return since


def _paused(workers: dict[str, Any]) -> str:
    """The one line for a cluster whose workers are all paused (a worker pauses at 80 %
    of its memory limit and runs no task until it falls below it), or ""."""
    limits = [w.get("memory_limit") or 0 for w in workers.values() if w.get("status") == "paused"]
    if not workers or len(limits) < len(workers):
        return ""
    return (
        f"every Dask worker is paused at its memory limit ({max(limits) / 2**20:.0f} MiB; "
        "a worker pauses at 80 % of it): give the workers more memory (--memory-limit)"
    )


def stop_if_canceled(client: Any, futures: Any, event: Any) -> None:
    """When the run was canceled: cancel ``futures`` on the scheduler (``force``: also
    when another client of this process holds them), so the workers drop their tasks
    and the data they hold; then raise RunCanceled."""
    if event is None or not event.is_set():
        return
    from hybrid.cancellation import raise_if_canceled

    with contextlib.suppress(OSError, TimeoutError):
        client.cancel(futures, force=True)
    raise_if_canceled(event)


def write_as_completed(client: Any, array: Any, write: Any, settings: Any) -> None:
    """Compute every block of the dask ``array`` on the cluster and ``write(index, block)``
    each in this process as it completes, releasing it at once (no gather of the whole
    result). The blocks go in fused, placed batches
    (:class:`hybrid.backends.local.placement.PlacedBatches`: one task per output block's
    chain, on one worker). Stops like :func:`result_while_workers_live`: cancel, or no
    workers left."""
    from dask.distributed import wait

    from hybrid.backends.local.placement import PlacedBatches
    from hybrid.cancellation import cancel_event
    from hybrid.io.streaming import block_slices
    from hybrid.progress import bar

    batches = PlacedBatches(client, array)
    event = cancel_event()
    progress = bar(batches.total, desc="compute", enabled=settings.progress, unit="block")
    alone_since: float | None = None
    try:
        batches.top_up()
        while batches.pending:
            stop_if_canceled(client, list(batches.pending), event)
            try:
                with client.as_current():
                    done, _ = wait(
                        list(batches.pending), timeout=1.0, return_when="FIRST_COMPLETED"
                    )
            except TimeoutError:
                done = set()
            except OSError:
                raise _lost_scheduler() from None
            except CancelledError as exc:  # the client canceled them: see _result
                raise _canceled(exc) from None
            for future in done:
                write(block_slices(array.chunks, batches.position(future)), _result(future))
                future.release()
                progress.update(1)
            if done:
                batches.top_up()
                alone_since = None
                continue
            alone_since = _check_alone(
                client, list(batches.pending), alone_since, settings.worker_timeout
            )
    finally:
        progress.close()
        batches.close()
        if batches.pending:
            with contextlib.suppress(OSError, TimeoutError):
                client.cancel(list(batches.pending), force=True)
