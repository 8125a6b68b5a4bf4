"""The Python API for notebooks and scripts: :func:`connect`, :func:`run`, :func:`graph`,
:func:`scenes` and :func:`compare` (re-exported by :mod:`hybrid`).

Every function takes the workflow options of ``hybrid run`` with underscores instead of
dashes (``max_cloud_cover=20``, ``period="week"``, ``cloud_classes="8,9"``) and checks
them exactly as the command line does, so a notebook and the CLI build the same graph.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.errors import UsageError

if TYPE_CHECKING:
    import openeo
    import pandas as pd
    import xarray as xr

    from hybrid.comparison_report import ComparisonReport
    from hybrid.server.serving import ServerThread

#: the login of the emulator's built-in local user
LOCAL_USER = ("hybrid", "hybrid")


def connect(
    backend: str = "local", *, stac: str | None = None, data_dir: str | Path | None = None
) -> openeo.Connection:
    """An authenticated openeo ``Connection``, so the same client code runs anywhere.

    ``"local"`` starts the emulator (``hybrid serve``) in this process on a free loopback
    port on first use - over ``stac`` (default: the embedded sample) - and stops it when
    the interpreter exits; ``"copernicus"`` or an openEO URL connects there and
    authenticates from the environment (``OPENEO_AUTH_*``) or the device flow.

    >>> con = hybrid.connect("local")                        # doctest: +SKIP
    >>> cube = con.load_collection("SENTINEL2_L2A", ...)     # doctest: +SKIP
    """
    import openeo

    from hybrid.backends.names import LOCAL

    if backend == LOCAL:
        server = _emulator(stac, None if data_dir is None else Path(data_dir))
        return openeo.connect(server.url).authenticate_basic(*LOCAL_USER)
    from hybrid.backends import get_backend
    from hybrid.backends.remote import RemoteBackend

    remote = get_backend(backend)
    assert isinstance(remote, RemoteBackend)
    return remote.connect()


def run(
    aoi: str | Path | dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    stac: str | None = None,
    backend: str = "local",
    graph: str | Path | Mapping[str, Any] | None = None,
    **options: Any,
) -> xr.Dataset:
    """Run the NDVI workflow and return its result as an ``xarray.Dataset`` (in memory).

    The same result as ``hybrid run`` with the same options (NetCDF layout, provenance
    in ``attrs``). ``aoi`` is a GeoJSON path or dict; None means the embedded sample's
    AOI and season. ``graph`` (a process-graph file or dict, ``hybrid run --graph``)
    runs that graph instead; its result must be one netCDF file (any other: run it with
    :func:`connect` and the openeo client, which downloads every format).

    >>> ds = hybrid.run(period="month", max_cloud_cover=20)  # doctest: +SKIP
    >>> ds["var"].mean(("x", "y")).values                     # doctest: +SKIP
    >>> ds = hybrid.run(graph=cube.flat_graph())             # doctest: +SKIP
    """
    import xarray as xr

    from hybrid.cli.run import produce

    for name in ("out", "overwrite"):
        if name in options:
            raise UsageError(f"hybrid.run returns the result in memory; {name} is for 'hybrid run'")
    if graph is not None:
        return _run_graph(graph, stac=stac, backend=backend, **options)
    if "format" in options and str(options["format"]).lower() not in ("netcdf", "nc"):
        raise UsageError("hybrid.run returns a Dataset: it runs with format netCDF only")
    args = _arguments("run", aoi, start, end, stac=stac, backend=backend, **options)
    with tempfile.TemporaryDirectory(prefix="hybrid-run-") as tmp:
        # progress shows where it can be seen: a terminal or a notebook (tqdm.auto)
        args.out, args.overwrite, args.quiet = str(Path(tmp) / "result.nc"), True, False
        with _quiet_warnings():
            out, _workflow = produce(args)
        return xr.load_dataset(out, engine="h5netcdf")


def _run_graph(
    graph: str | Path | Mapping[str, Any], *, stac: str | None, backend: str, **options: Any
) -> xr.Dataset:
    """:func:`run` of a process graph: its one netCDF file as a Dataset."""
    import json

    import xarray as xr

    from hybrid.cli.run import produce_graph
    from hybrid.cli.run_graph import user_graph

    if isinstance(graph, Mapping):
        try:
            json.dumps(graph, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"graph is not a JSON process graph: {exc}") from None
        flat = user_graph(graph, name="graph")
    elif isinstance(graph, str | Path):
        flat = user_graph(graph, name=str(graph))
    else:
        raise UsageError(
            f"graph must be a process graph (dict) or a file, not {type(graph).__name__}"
        )
    args = _arguments("run", None, None, None, stac=stac, backend=backend, **options)
    args._given = set(options)  # run_graph.check_options: the options given here
    with tempfile.TemporaryDirectory(prefix="hybrid-run-") as tmp:
        args.graph = "graph" if isinstance(graph, Mapping) else str(graph)
        args.out, args.quiet = str(Path(tmp) / "result"), False
        with _quiet_warnings():
            _out, files = produce_graph(args, flat)
        netcdf = [file for file in files if file.suffix in (".nc", ".nc4")]
        if len(files) != 1 or len(netcdf) != 1:
            names = ", ".join(file.name for file in files) or "nothing"
            raise UsageError(
                f"hybrid.run returns a Dataset: the graph wrote {names}, not one netCDF "
                "file; save it with format netCDF, or run it with hybrid.connect('local')"
            )
        return xr.load_dataset(netcdf[0], engine="h5netcdf")


def graph(
    aoi: str | Path | dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    stac: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The flat openEO process graph every backend receives (``hybrid graph``).

    >>> g = hybrid.graph(period="week")                      # doctest: +SKIP
    >>> sorted({node["process_id"] for node in g.values()})  # doctest: +SKIP
    """
    from hybrid.cli.options import workflow_from_args
    from hybrid.workflow import with_max_aoi_cloud
    from hybrid.workflow_graph import build_graph

    args = _arguments("graph", aoi, start, end, stac=stac, **options)
    workflow = with_max_aoi_cloud(workflow_from_args(args), args.max_aoi_cloud, stac=args.stac)
    return build_graph(workflow)


def scenes(
    aoi: str | Path | dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    stac: str | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per date the load selects, with tile and AOI cloud (``hybrid scenes``).

    >>> hybrid.scenes(max_cloud_cover=100)[["date", "aoi_cloud_pct"]]  # doctest: +SKIP
    """
    import pandas as pd

    from hybrid.cli.options import workflow_from_args
    from hybrid.scene_table import scene_table

    args = _arguments("scenes", aoi, start, end, stac=stac, **options)
    with _quiet_warnings():
        rows = scene_table(workflow_from_args(args), stac=stac)
    return pd.DataFrame([row.as_json() for row in rows])


def compare(
    a: str | Path | xr.Dataset | xr.DataArray,
    b: str | Path | xr.Dataset | xr.DataArray,
    *,
    atol: float | Mapping[str, float] = 1e-6,
    rtol: float | Mapping[str, float] = 0.0,
) -> ComparisonReport:
    """Are two results equivalent? ``bool(report)`` says so; it prints as a table and
    renders in a notebook. Paths (NetCDF, GTiff folder, or an aggregate_spatial time
    series in any layout: :mod:`hybrid.series_comparison`) or Datasets from :func:`run`.
    ``atol``/``rtol`` are numbers or per band (:mod:`hybrid.tolerance`).

    >>> report = hybrid.compare("remote.nc", hybrid.run())   # doctest: +SKIP
    >>> assert report, report                                 # doctest: +SKIP
    """
    from hybrid.comparison import compare as compare_results

    with tempfile.TemporaryDirectory(prefix="hybrid-compare-") as tmp:
        return compare_results(
            _as_result(a, Path(tmp) / "a.nc"), _as_result(b, Path(tmp) / "b.nc"),
            atol=atol, rtol=rtol,
        )  # fmt: skip


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    """The third-party warnings ``hybrid`` on the command line also hides (odc-geo warps
    empty windows of other-CRS tiles as bare arrays, which rasterio then warns about)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Dataset has no geotransform")
        yield


def _as_result(value: Any, scratch: Path) -> Any:
    """A path or cube :func:`hybrid.comparison.compare` takes; Datasets go through a file so
    they are read exactly as a downloaded result would be."""
    import xarray as xr

    from hybrid.io.reader import open_any

    if isinstance(value, xr.Dataset):  # a raster, or a time series of run(graph=...)
        value.to_netcdf(scratch, engine="h5netcdf")
        cube = open_any(scratch).load()
        cube.attrs["source"] = value.attrs.get("source", "Dataset")
        return cube
    return value


def _arguments(
    command: str,
    aoi: str | Path | dict[str, Any] | None,
    start: str | None,
    end: str | None,
    **options: Any,
) -> argparse.Namespace:
    """The namespace ``hybrid COMMAND`` would parse, with ``options`` applied and checked."""
    from hybrid.cli import build_parser

    parser = build_parser()
    args = parser.parse_args([command])
    args.aoi = str(aoi) if isinstance(aoi, Path) else aoi
    args.start, args.end = start, end
    types = _option_types(parser, command)
    for name, value in options.items():
        if name in ("command", "handle", "aoi", "start", "end") or not hasattr(args, name):
            known = sorted(k for k in vars(args) if k not in ("command", "handle"))
            raise UsageError(f"unknown option {name!r} for {command}; known: {', '.join(known)}")
        if name == "cloud_classes" and not isinstance(value, str):
            value = ",".join(str(c) for c in value)
        setattr(args, name, _typed(name, value, types.get(name)))
    return args


def _option_types(parser: argparse.ArgumentParser, command: str) -> dict[str, Any]:
    """Option name -> the type the command line converts its text with (int, float...)."""
    from hybrid.cli import subparser

    return {a.dest: a.type for a in subparser(parser, command)._actions if callable(a.type)}


def _typed(name: str, value: Any, kind: Any) -> Any:
    """``value`` as the command line would hold it (``"20"`` for a float option is 20.0);
    a value the command line would refuse is a UsageError naming the option."""
    if kind is None or value is None or isinstance(value, bool):
        return value
    try:
        return kind(value if isinstance(value, str) else str(value))
    except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
        kind_name = getattr(kind, "__name__", "value")
        raise UsageError(f"{name}={value!r} is not a valid {kind_name} ({exc})") from None


@dataclass
class _Emulator:
    url: str
    server: ServerThread
    data_dir: Path
    owns_data_dir: bool

    def stop(self) -> None:
        self.server.stop(timeout=10)
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


_EMULATORS: dict[tuple[str | None, Path | None], _Emulator] = {}
_LOCK = threading.Lock()


def _emulator(stac: str | None, data_dir: Path | None) -> _Emulator:
    """The in-process emulator for this STAC source (started on first use)."""
    with _LOCK:
        key = (stac, data_dir)
        if key not in _EMULATORS:
            if not _EMULATORS:
                atexit.register(stop_local)
            _EMULATORS[key] = _start_emulator(stac, data_dir)
        return _EMULATORS[key]


def _start_emulator(stac: str | None, data_dir: Path | None) -> _Emulator:
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.serving import ServerThread
    from hybrid.server.settings import ServerSettings

    owns = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="hybrid-connect-")) if data_dir is None else data_dir
    app = create_app(ServerSettings(data_dir=folder), LocalBackend(LocalSettings(stac=stac)))
    server = ServerThread(app, name="hybrid-connect").start()
    return _Emulator(server.url, server, folder, owns)


def stop_local() -> None:
    """Stop the in-process emulators started by :func:`connect` (done at exit anyway).

    >>> con = hybrid.connect("local")                        # doctest: +SKIP
    >>> hybrid.api.stop_local()                              # doctest: +SKIP
    """
    with _LOCK:
        while _EMULATORS:
            _EMULATORS.popitem()[1].stop()
