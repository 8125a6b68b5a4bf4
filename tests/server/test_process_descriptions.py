"""GET /processes over HTTP: the descriptions of what the engine runs, with the
parameters of the openEO spec (hybrid.backends.local.process_descriptions says which
version and why)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hybrid.backends.local.process_descriptions import CORRECTIONS, described
from tests.server_helpers import SHARED, ThreadServer

#: parameters of the spec the engine does not take, and why (they stay undescribed)
ENGINE_LIMITS = {
    # openeo-processes-dask 2026.9.1 filter_bands(data, bands) has no wavelengths
    ("filter_bands", "wavelengths"),
}
#: parameters the engine describes under a later name than openeo.processes (rc.1) has:
#: apply_polygon's ``polygons`` became ``geometries``, the name the client's
#: ``DataCube.apply_polygon`` sends (openeo-python-client rest/datacube.py) and
#: Copernicus reads first (openeo-python-driver process_implementations/cubes.py L140-150;
#: the old name is still accepted)
RENAMED = {("apply_polygon", "polygons"): "geometries"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    """The emulator with the local engine; GET /processes reads no data."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.server.app import create_app
    from hybrid.server.settings import ServerSettings

    tmp = tmp_path_factory.mktemp("processes")
    settings = ServerSettings(data_dir=tmp / "data", workers=1)
    engine = LocalBackend(LocalSettings(stac=str(tmp / "no-catalog")))
    with ThreadServer(create_app(settings, engine)) as running:
        yield running


@pytest.fixture(scope="module")
def served(server: ThreadServer) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{server.url}/processes", timeout=30)
    assert answer.status_code == 200
    return {p["id"]: p for p in answer.json()["processes"]}


def _signature(process_id: str) -> list[tuple[str, bool]] | None:
    """(name, optional) of the openeo client's function for ``process_id``: the client
    generates ``openeo.processes`` from the openeo-processes JSON."""
    import openeo.processes

    func = getattr(openeo.processes, process_id, None) or getattr(
        openeo.processes, f"{process_id}_", None
    )
    if func is None:
        return None
    params = inspect.signature(func).parameters.values()
    return [(p.name.rstrip("_"), p.default is not p.empty) for p in params]


def _interface(spec: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(p["name"], bool(p.get("optional", False))) for p in spec["parameters"]]


def test_every_description_is_complete(served: dict[str, dict[str, Any]]) -> None:
    assert len(served) > 100
    for pid, spec in served.items():
        assert spec["description"] and spec["returns"]["schema"], pid
        for param in spec["parameters"]:
            assert {"name", "description", "schema"} <= set(param), (pid, param)


def test_parameters_are_those_of_the_openeo_client(served: dict[str, dict[str, Any]]) -> None:
    compared = 0
    for pid, spec in served.items():
        expected = _signature(pid)
        if expected is None:  # Copernicus-only processes (to_scl_dilation_mask, ...)
            continue
        expected = [
            (RENAMED.get((pid, n), n), opt) for n, opt in expected if (pid, n) not in ENGINE_LIMITS
        ]
        assert _interface(spec) == expected, pid
        compared += 1
    assert compared > 100


def test_every_described_parameter_reaches_the_implementation(
    served: dict[str, dict[str, Any]],
) -> None:
    from hybrid.backends.local.registry import base_registry

    store = base_registry().store["predefined"]
    for pid, spec in served.items():
        func = store[pid].implementation
        if func is None:  # load_collection and save_result are bound per run
            continue
        params = inspect.signature(inspect.unwrap(func)).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            continue
        names = {p.name for p in params}
        # run_udf's version is read where the UDF is placed (udf.callbacks), not by it
        described_names = {p["name"] for p in spec["parameters"]} - {"version"}
        assert described_names <= names, (pid, described_names - names)


def _bundled() -> dict[str, dict[str, Any]]:
    import openeo_processes_dask.specs as specs

    return {
        spec["id"]: spec
        for spec in (json.loads(p.read_text()) for p in Path(specs.json_path).glob("*.json"))
    }


def test_descriptions_are_the_packaged_ones_with_stated_corrections(
    served: dict[str, dict[str, Any]],
) -> None:
    bundled = _bundled()
    assert set(CORRECTIONS) <= set(served)
    for pid, spec in served.items():
        if pid not in bundled:  # the engine's own (apply_neighborhood, SCL dilation)
            continue
        if pid in CORRECTIONS:  # still needed: the package has not changed
            assert bundled[pid] != spec and described(bundled[pid]) == spec, pid
        else:
            assert bundled[pid] == spec, pid


def test_the_seed_processes_keep_their_1_2_0_parameters(
    served: dict[str, dict[str, Any]],
) -> None:
    folder = SHARED / "openeo-spec" / "processes"
    if not folder.is_dir():
        pytest.skip("../shared/openeo-spec/processes is absent")
    for path in sorted(folder.glob("*.json")):
        spec = json.loads(path.read_text())
        assert _interface(served[spec["id"]]) == _interface(spec), spec["id"]
