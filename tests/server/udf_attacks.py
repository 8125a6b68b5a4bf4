"""What the hostile UDFs of tests/server/test_udf_isolation.py run and how their outcome is
read: the UDF code, the server's answers, what a UDF left on the machine, the worker's
priority.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import ServeProcess, write_users_file

BBOX = {"west": 6.660, "south": 45.230, "east": 6.665, "north": 45.233}

DATES = ["2023-06-01", "2023-06-10"]

USERS = {"alice": "alice-pw"}

#: given to the server only: a UDF must not see it
SECRET = "hybrid-test-oidc-secret-5c1e"

#: the longest error message a hostile UDF may cause
MAX_MESSAGE = 10_000

HEAD = """
import ctypes, errno, json, os, socket, sys, xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
"""


def _udf(body: str) -> str:
    return HEAD + "".join(f"    {line}\n" for line in body.strip("\n").splitlines())


def _refused(server: Any, code: str, context: dict[str, Any] | None = None) -> str:
    """The message of the 400 a synchronous run of ``code`` in ``apply`` answers; the
    server answers the next request."""
    import openeo
    from openeo.rest import OpenEoApiError

    connection = openeo.connect(server.url).authenticate_basic("alice", USERS["alice"])
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    udf = openeo.UDF(code, context=context or {})
    with pytest.raises(OpenEoApiError) as info:
        cube.apply(process=udf).download()
    assert info.value.http_status_code == 400, info.value
    assert len(info.value.message) < MAX_MESSAGE
    assert server.proc.poll() is None
    assert connection.list_collection_ids()
    return str(info.value.message)


def _outcomes(message: str) -> dict[str, str]:
    text = message.split("OUTCOMES ", 1)[1]
    return dict(json.JSONDecoder().raw_decode(text)[0])


def _errno_of(expression: str) -> str:
    """UDF lines setting ``out[name]`` to the errno name of a failing libc call."""
    return (
        f"r = {expression}\n"
        "out[name] = errno.errorcode.get(ctypes.get_errno(), '?') if r < 0 else 'done'\n"
    )


def _sysv_left(key: int) -> list[str]:
    """The System V IPC objects of ``key`` still on the machine (removed here)."""
    libc = ctypes.CDLL(None, use_errno=True)
    left = []
    for kind, get, ctl, args in (
        ("shm", libc.shmget, libc.shmctl, (0, 0)),
        ("msg", libc.msgget, libc.msgctl, (0,)),
        ("sem", libc.semget, libc.semctl, (0, 0)),
    ):
        ident = get(key, *args)
        if ident >= 0:
            left.append(kind)
            if kind == "sem":
                ctl(ident, 0, 0)  # IPC_RMID
            else:
                ctl(ident, 0, None)
    return left


def _high_water_mib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:", 1)[1].split()[0]) // 1024


#: a structured-data UDF answering its list
_ECHO = """
from openeo.udf import StructuredData, UdfData

def echo(data: UdfData):
    given = data.get_structured_data_list()[0]
    data.set_structured_data_list([StructuredData(data=given.data, type="list")])
"""


_NUMBERS = "import numpy as np\nnp.save('out-0.npy', np.zeros((1, 1, 2, 2), dtype=np.float32))\n"

_META = "json.dump({'dims': ['t', 'bands', 'y', 'x'], 'coords': {}}, open('out-0.json', 'w'))\n"

_HUGE_HEADER = (
    "import numpy as np\n"
    "with open('out-0.npy', 'wb') as out:\n"
    "    header = {'descr': '<f4', 'fortran_order': False, 'shape': (10**6, 10**6, 4)}\n"
    "    np.lib.format.write_array_header_1_0(out, header)\n"
    "    out.write(bytes(64))\n"
)

#: the most processes or threads a bomb here tries to start: a hard cap under the
#: machine's pid_max (32768) whatever the sandbox does
BOMB_CAP = 3000

#: a fork bomb started by the worker alone (each child ends at once) and a thread bomb of
#: 64 KiB stacks (thousands fit in the address-space limit), each counting what it started
_BOMBS = {
    "fork": "pid = os.fork()\nif pid == 0:\n    os._exit(0)\n",
    "thread": "threading.Thread(target=stop.wait, daemon=True).start()\n",
}


def _bomb(kind: str) -> str:
    step = "".join(f"        {line}\n" for line in _BOMBS[kind].splitlines())
    return _udf(
        "import threading\n"
        "threading.stack_size(64 * 1024)\n"
        "stop, out = threading.Event(), {'started': 0, 'error': None}\n"
        f"try:\n    for _ in range({BOMB_CAP}):\n{step}        out['started'] += 1\n"
        "except (OSError, RuntimeError) as exc:\n"
        "    out['error'] = type(exc).__name__ + ': ' + str(exc)\n"
        "stop.set()\n"
        "raise RuntimeError('OUTCOMES ' + json.dumps(out))\n"
    )


def _left_behind(server_pid: int) -> list[str]:
    """Processes the server started that are still there, and its UDF cgroups."""
    from hybrid.backends.local.udf.task_limit import CGROUP_PREFIX

    kids = [
        kid
        for task in Path(f"/proc/{server_pid}/task").iterdir()
        for kid in (task / "children").read_text().split()
    ]
    cgroups = Path("/sys/fs/cgroup").glob(f"**/{CGROUP_PREFIX}{server_pid}-*")
    return kids + [str(path) for path in cgroups]


def _worker_nice(server_pid: int, seen: dict[str, str], done: threading.Event) -> None:
    """Until ``done``: the nice value and autogroup of the server's UDF worker, last seen."""
    while not done.wait(0.1):
        for task in Path(f"/proc/{server_pid}/task").iterdir():
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                try:
                    if b"udf.worker" not in Path(f"/proc/{kid}/cmdline").read_bytes():
                        continue
                    stat = Path(f"/proc/{kid}/stat").read_text()
                    seen["nice"] = stat.rsplit(")", 1)[1].split()[16]
                    seen["autogroup"] = Path(f"/proc/{kid}/autogroup").read_text().strip()
                except OSError:
                    continue


def _priority_seen(server: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """What a busy UDF on ``server`` reports of its own nice value and its thread's, and
    what /proc shows of its worker's nice value and autogroup meanwhile."""
    seen: dict[str, str] = {}
    done = threading.Event()
    watcher = threading.Thread(target=_worker_nice, args=(server.proc.pid, seen, done))
    watcher.start()
    body = (
        "import threading, time\n"
        "out = {'nice': os.getpriority(os.PRIO_PROCESS, 0)}\n"
        "thread = threading.Thread(target=lambda: out.update(thread=os.nice(0)))\n"
        "thread.start()\n"
        "thread.join()\n"
        "time.sleep(4)\n"
        "raise RuntimeError('OUTCOMES ' + json.dumps(out))\n"
    )
    try:
        message = _refused(server, _udf(body))
    finally:
        done.set()
        watcher.join()
    assert "OUTCOMES" in message, message
    return _outcomes(message), seen


def _check_priority(server: Any, nice: int) -> None:
    outcomes, seen = _priority_seen(server)
    assert outcomes == {"nice": nice, "thread": nice}
    assert seen["nice"] == str(nice)
    if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1":
        assert seen["autogroup"].endswith(f"nice {nice}"), seen


@contextlib.contextmanager
def _server_at(root: Path, catalog: Path, udf_nice: int | None) -> Iterator[ServeProcess]:
    """A server of its own whose UDF workers run at ``--udf-nice`` (None: the default)."""
    users = write_users_file(root / "users.toml", USERS)
    with ServeProcess(
        data_dir=root / "data", stac=catalog, users=users, udf_nice=udf_nice
    ) as serve:
        yield serve
