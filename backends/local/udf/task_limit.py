"""How many threads a UDF worker may run: ``UdfSettings.tasks`` (the kernel counts
each thread, and each process, as a task).

The seccomp filter keeps a UDF to one process (:mod:`.syscall_filter`), but threads it
must allow (numpy, BLAS, dask start them), and a thread bomb with small stacks
(``threading.stack_size``) started tens of thousands of them within the address-space
limit: the machine's ``pid_max`` (often 32768) ran out for the server and every other
program. ``RLIMIT_NPROC`` counts per user and the kernel does not apply it to uid 0, seccomp
cannot count, so three bounds, each where it works:

1. a **cgroup** of the pids controller with ``pids.max`` = the limit, made by the server
   under its own cgroup wherever the hierarchy is writable (cgroup v1 ``pids``, or v2 with
   ``pids`` in the server cgroup's ``cgroup.subtree_control``), which the worker joins
   before it confines itself (:func:`join`): a clone past the limit fails with EAGAIN
   (``RuntimeError: can't start new thread``), for uid 0 too;
2. for any other user than uid 0, ``RLIMIT_NPROC`` = the user's tasks when the worker
   starts plus the limit (:func:`cap_user_tasks`);
3. the server counts the worker's threads while it waits (:func:`thread_count`) and
   stops it beyond the limit: the last bound for uid 0 without a writable cgroup, where
   a bomb may start threads for up to one check's interval (50 ms).

Standard library only: the worker imports it before it confines itself.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

#: prefix of the cgroups the server makes, one per worker
CGROUP_PREFIX = "hybrid-udf-"


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per hierarchy: ``"pids"`` (v1) and ``""`` (v2)."""
    found = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            found[name] = path
    return found


def _pids_parent() -> Path | None:
    """The folder of this process's cgroup in a pids hierarchy, or None."""
    try:
        own = _own_cgroups()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields, _, tail = line.partition(" - ")
        parts, (fstype, _, options) = fields.split(), tail.split()[:3]
        if fstype == "cgroup" and "pids" in options.split(","):
            path = own.get("pids")
        elif fstype == "cgroup2" and "" in own:
            path = own[""]
        else:
            continue
        root, mount = parts[3], parts[4]
        if path is None or not path.startswith(root):
            continue
        folder = Path(mount + "/" + path[len(root) :].strip("/"))
        if fstype == "cgroup2":
            with contextlib.suppress(OSError):
                if "pids" in (folder / "cgroup.subtree_control").read_text().split():
                    return folder
            continue
        return folder
    return None


@contextlib.contextmanager
def task_cgroup(limit: int) -> Iterator[Path | None]:
    """A new cgroup of at most ``limit`` tasks for one worker, removed after it; None
    where this process cannot make one (no pids hierarchy, or not writable)."""
    parent = _pids_parent()
    folder = parent / f"{CGROUP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}" if parent else None
    try:
        if folder is not None:
            folder.mkdir()
            (folder / "pids.max").write_text(str(limit))
    except OSError:
        _remove(folder)
        folder = None
    try:
        yield folder
    finally:
        _remove(folder)


def _remove(folder: Path | None) -> None:
    """Remove the cgroup ``folder`` once its last task is gone (the kernel frees a
    killed worker's tasks shortly after it is reaped)."""
    for _ in range(100):
        if folder is None or not folder.exists():
            return
        try:
            folder.rmdir()
        except OSError:
            time.sleep(0.02)


def limit_reached(folder: Path | None) -> bool:
    """Whether a task was refused in the cgroup ``folder`` for its ``pids.max``."""
    if folder is None:
        return False
    with contextlib.suppress(OSError, ValueError):
        for line in (folder / "pids.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "max":
                return int(value) > 0
    return False


def join(folder: str) -> None:
    """Move this process (the worker, before it starts any thread of the UDF) into the
    cgroup ``folder``."""
    with open(os.path.join(folder, "cgroup.procs"), "w", encoding="ascii") as file:
        file.write(str(os.getpid()))


def _status(pid: str) -> dict[str, str]:
    """The fields of ``/proc/PID/status`` (OSError once the process is gone)."""
    text = Path("/proc", pid, "status").read_text()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _user_tasks(uid: int) -> int:
    """The tasks (threads) of the processes whose real user is ``uid``."""
    total = 0
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError, ValueError, IndexError, KeyError):
            fields = _status(entry.name) if entry.name.isdigit() else {"Uid": "-1"}
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
    return total


def cap_user_tasks(limit: int) -> None:
    """For a user other than uid 0 (whose count the kernel does not check): at most
    ``limit`` more tasks than the user runs now (RLIMIT_NPROC counts per user)."""
    uid = os.getuid()
    if uid == 0:
        return
    cap = _user_tasks(uid) + limit
    _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))


def thread_count(pid: int) -> int:
    """The threads of the process ``pid`` (0 once it is gone)."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        return int(_status(str(pid))["Threads"])
    return 0
