"""Helpers for the ``hybrid serve`` tests: real servers on 127.0.0.1, the user's script.

- :class:`ServeProcess`: ``python -m hybrid serve --port 0 ...`` as a subprocess, its URL
  read from the one line it prints.
- :class:`ThreadServer`: the same app under uvicorn in a thread (for tests that need
  the app's settings or a gated engine); :func:`local_server` / :func:`local_connection`:
  one over the local backend, and an openeo client logged in to it.
- :func:`ndvi_cube`: the NDVI workflow exactly as a user writes it with the openeo client.
- :func:`openapi_spec`: the openEO API 1.2 spec from ../shared (openapi-core).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hybrid.server.serving import ServerThread

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_BBOX = {"west": 6.6544450, "south": 45.2258959, "east": 6.6751340, "north": 45.2641447}
#: a short window inside the embedded sample (2023-05-01..2023-09-30)
TEMPORAL_EXTENT = ["2023-06-01", "2023-07-01"]


def openeo_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment keeping the openeo client's config and refresh tokens under ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OPENEO_AUTH_") and key != "OPENEO_CONFIG_HOME"
    }
    for name in ("OPENEO_CONFIG_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    env.update(extra or {})
    return env


def login(server: Any, user: str, password: str) -> Any:
    """The real openeo client on ``server``, logged in as ``user`` with basic auth."""
    import openeo

    return openeo.connect(server.url).authenticate_basic(user, password)


def basic_client(url: str, home: Path) -> Any:
    """The real openeo client on ``url``, logged in as the test user, its config under ``home``
    (the process environment points there from now on)."""
    import openeo

    os.environ.update(openeo_env(home))
    return openeo.connect(url).authenticate_basic("hybrid", "hybrid")


class ServeProcess:
    """``python -m hybrid serve`` in a subprocess; use as a context manager."""

    def __init__(
        self,
        *,
        data_dir: Path,
        stac: Path | str | None = None,
        users: Path | None = None,
        workers: int = 1,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
        udf_nice: int | None = 0,
    ) -> None:
        """``udf_nice``: ``--udf-nice`` (None: the server's default, 19). 0 by default:
        at 19 a UDF worker got ~1.5 % of a core while the test workers kept both busy."""
        self.args = [sys.executable, "-m", "hybrid", "serve", "--port", "0"]
        self.args += ["--data-dir", str(data_dir), "--workers", str(workers)]
        if udf_nice is not None:
            self.args += ["--udf-nice", str(udf_nice)]
        if stac is not None:
            self.args += ["--stac", str(stac)]
        if users is not None:
            self.args += ["--users", str(users)]
        self.args += list(extra_args)
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.stderr_path = data_dir.parent / f"{data_dir.name}-serve-{id(self)}.err"

    def start(self) -> ServeProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.proc.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(self.startup_timeout)
        if not line or not line[0].startswith("hybrid serve: listening on http://"):
            self.stop(sig=signal.SIGKILL)
            raise RuntimeError(
                f"hybrid serve did not start: stdout {line!r}, stderr:\n{self.stderr()}"
            )
        self.url = line[0].split("listening on ", 1)[1].strip()
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()
        return code

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ThreadServer(ServerThread):
    """The app in a thread (:class:`hybrid.server.serving.ServerThread`); on exit, also
    waits for a job still inside the engine to end before the interpreter does."""

    def __enter__(self) -> ThreadServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        runner = getattr(self.app.state, "runner", None)
        deadline = time.monotonic() + 60
        while runner is not None and runner.busy() and time.monotonic() < deadline:
            time.sleep(0.05)


@contextlib.contextmanager
def local_server(data_dir: Path, catalog: Path | None = None) -> Iterator[ThreadServer]:
    """The emulator over the local backend in a thread (one job worker, its data under
    ``data_dir``), reading ``catalog`` (default: the embedded sample)."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.backends.local.udf.isolated import UdfSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    settings = ServerSettings(data_dir=data_dir, workers=1)
    stac = None if catalog is None else str(catalog)
    backend = LocalBackend(LocalSettings(stac=stac, udf=UdfSettings(nice=0)))  # as ServeProcess
    with ThreadServer(create_app(settings, backend)) as running:
        yield running


@contextlib.contextmanager
def local_connection(data_dir: Path, catalog: Path | None = None) -> Iterator[Any]:
    """An openeo client connection, logged in, to :func:`local_server`."""
    import openeo

    with local_server(data_dir, catalog) as running:
        yield openeo.connect(running.url).authenticate_basic("hybrid", "hybrid")


def ndvi_cube(connection: Any, *, bbox: Mapping[str, float] = SEED_BBOX) -> Any:
    """The seed NDVI workflow as a user writes it with the openeo client."""
    import numpy as np

    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=dict(bbox),
        temporal_extent=TEMPORAL_EXTENT,
        bands=["B04", "B08", "SCL"],
        max_cloud_cover=20,
    )
    scl = cube.band("SCL")
    cloud = (scl == 8) | (scl == 9)
    offsets = np.arange(11) - 5
    gauss = np.exp(-0.5 * (offsets / 1.6) ** 2)
    kernel = np.outer(gauss, gauss)
    kernel = kernel / kernel.sum()
    mask = cloud.apply_kernel(kernel.tolist()) > 0.1
    ndvi = cube.ndvi(red="B04", nir="B08").mask(mask)
    return ndvi.aggregate_temporal_period("month", reducer="mean")


def flat_graph(cube: Any, *, out_format: str = "netCDF") -> dict[str, Any]:
    """The flat process graph the client sends for ``cube`` saved as ``out_format``."""
    saved = cube.save_result(format=out_format)
    return dict(saved.flat_graph())


def write_users_file(
    path: Path, users: Mapping[str, str], clients: Mapping[str, tuple[str, str]] | None = None
) -> Path:
    """A TOML users file: ``users`` name -> password, ``clients`` id -> (secret, user)."""
    from hybrid.server.auth import hash_password

    lines = []
    for name, password in users.items():
        lines += [f"[users.{name}]", f'password = "{hash_password(password)}"', ""]
    for client_id, (secret, user) in (clients or {}).items():
        lines += [f"[clients.{client_id}]", f'secret = "{hash_password(secret)}"']
        lines += [f'user = "{user}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _one_of_as_any_of(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            ("anyOf" if key == "oneOf" else key): _one_of_as_any_of(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_one_of_as_any_of(value) for value in node]
    return node


def openapi_spec() -> Any:
    """The openEO API 1.2 spec (openapi-core), its servers pointed at any base URL.

    The spec's ``oneOf`` alternatives overlap (a process parameter schema matches both
    "Generic" and "datacube"; a ``{minimum, maximum}`` summary is both statistics and a
    JSON Schema), so strict ``oneOf`` rejects every real backend's ``/processes``; they
    are checked as ``anyOf``, which still rejects values matching no alternative.
    """
    import json

    import yaml
    from openapi_core import Config, OpenAPI

    raw = yaml.safe_load((SHARED / "openeo-spec" / "api" / "openapi.yaml").read_text())
    raw = _one_of_as_any_of(raw)
    raw["servers"] = [{"url": "/"}]
    for item in raw["paths"].values():
        for node in [item, *item.values()]:
            if isinstance(node, dict) and "servers" in node:
                node["servers"] = [{"url": "/"}]
    geojson = {"application/geo+json": json.loads}
    return OpenAPI.from_dict(raw, config=Config(extra_media_type_deserializers=geojson))


def ndvi_graph(
    extent: Mapping[str, float],
    dates: Sequence[str],
    *,
    collection: str = "SENTINEL2_L2A",
) -> dict[str, Any]:
    """A small valid flat graph: NDVI of ``extent`` over ``dates``, saved as netCDF."""
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": collection,
                "spatial_extent": dict(extent),
                "temporal_extent": list(dates),
                "bands": ["B04", "B08"],
            },
        },
        "ndvi": {
            "process_id": "ndvi",
            "arguments": {"data": {"from_node": "load"}, "red": "B04", "nir": "B08"},
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "ndvi"}, "format": "netCDF"},
            "result": True,
        },
    }


@contextlib.contextmanager
def two_user_server(tmp: Path, sample_catalog: Path) -> Iterator[ThreadServer]:
    """An in-process emulator over ``sample_catalog`` with users alice and bob (their
    passwords: a-pass, b-pass), one job worker, its data under ``tmp``."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.backends.local.udf.isolated import UdfSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    users = write_users_file(tmp / "users.toml", {"alice": "a-pass", "bob": "b-pass"})
    settings = ServerSettings(data_dir=tmp / "data", users_file=users, workers=1)
    udf = UdfSettings(nice=0)  # as ServeProcess
    engine = LocalBackend(LocalSettings(stac=str(sample_catalog), udf=udf))
    with ThreadServer(create_app(settings, engine)) as running:
        yield running
