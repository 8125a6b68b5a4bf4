"""The user-defined-process cases of the Copernicus backend developers' integration tests
(Open-EO/openeo-geopyspark-integrationtests ``tests/test_integration.py``) replayed with
the openeo client against ``hybrid serve``: a UDP's result synchronously and as a batch
job, a public UDP by its canonical URL as namespace, CRUD keeping the client's node ids,
a parameter's default. How the replay works (extent and dates moved into the embedded
sample, the published code read from ``HYBRID_GEOPYSPARK_INTEGRATIONTESTS``):
``tests/workflows/test_geopyspark_integrationtests_cubes.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.workflows.geopyspark_published import DAY, NEEDS_CHECKOUT
from tests.workflows.raw import BBOX, raw_bands, read_tiff

pytestmark = NEEDS_CHECKOUT


def test_udp_fahrenheit_to_celsius(connection: Any) -> None:
    """TestUdp.test_udp_simple_math (L1574-1588): a UDP of ``divide(subtract(f, 32), 1.8)``
    stored and called with ``namespace="user"`` answers ``10.0`` for 50."""
    from openeo.processes import divide, process, subtract
    from openeo.rest.udp import Parameter

    fahrenheit = Parameter.number("fahrenheit")
    fahrenheit_to_celsius = divide(x=subtract(x=fahrenheit, y=32), y=1.8)
    connection.save_user_defined_process(
        "fahrenheit_to_celsius", fahrenheit_to_celsius, parameters=[fahrenheit]
    )
    pg = process("fahrenheit_to_celsius", namespace="user", fahrenheit=50)
    assert connection.execute(pg) == 10.0


def test_udp_fahrenheit_to_celsius_as_a_batch_job(connection: Any) -> None:
    """TestUdp.test_udp_simple_math_batch_job (L1589-1607): the same UDP in a batch job:
    its one ``application/json`` asset holds ``10.0``."""
    from openeo.processes import divide, process, subtract
    from openeo.rest.udp import Parameter

    udp_name = "f2c_omxu38tkfdujeu3o0843"
    fahrenheit = Parameter.number("fahrenheit")
    fahrenheit_to_celsius = divide(x=subtract(x=fahrenheit, y=32), y=1.8)
    connection.save_user_defined_process(udp_name, fahrenheit_to_celsius, parameters=[fahrenheit])
    pg = process(udp_name, namespace="user", fahrenheit=50)
    job = connection.create_job(pg, title="f2c")
    job.start_and_wait(max_poll_interval=1)
    results = job.get_results()
    asset = next(a for a in results.get_assets() if a.metadata.get("type") == "application/json")
    assert asset.load_json() == 10.0


def test_udp_public_canonical_url_as_namespace(connection: Any) -> None:
    """TestUdp.test_udp_public_sharing_url_namespace (L1610-1637): a public UDP's
    ``canonical`` link answers 200 without credentials and, as ``namespace``, runs it:
    86 F is ``30``."""
    import requests
    from openeo.rest.udp import Parameter

    f = Parameter.number("f", description="Degrees Fahrenheit.")
    pg = {
        "subtract1": {
            "arguments": {"x": {"from_parameter": "f"}, "y": 32},
            "process_id": "subtract",
        },
        "divide1": {
            "arguments": {"x": {"from_node": "subtract1"}, "y": 1.8},
            "process_id": "divide",
            "result": True,
        },
    }
    udp = connection.save_user_defined_process(
        "fahrenheit_to_celsius", process_graph=pg, parameters=[f], public=True
    )
    metadata = udp.describe()
    public_url = next(link for link in metadata["links"] if link["rel"] == "canonical")["href"]
    assert requests.get(public_url, timeout=30).status_code == 200
    cube = connection.datacube_from_process("fahrenheit_to_celsius", namespace=public_url, f=86)
    assert cube.execute() == 30


def test_udp_crud_keeps_the_client_node_ids(connection: Any) -> None:
    """TestUdp.test_udp_crud (L1460-1471, ``TERRASCOPE_S2_TOC_V2`` as ``SENTINEL2_L2A``):
    a bare load stored as a public UDP is described with its ``loadcollection1`` node and
    ``public: true``, and is gone from the list once deleted."""
    udp_id = "test_udp_crud_toc"
    toc = connection.load_collection("SENTINEL2_L2A")
    udp = toc.save_user_defined_process(user_defined_process_id=udp_id, public=True)
    details = udp.describe()
    assert details["id"] == udp_id
    assert "loadcollection1" in details["process_graph"]
    assert details["public"] is True
    udp.delete()
    assert udp_id not in {u["id"] for u in connection.list_user_defined_processes()}


def test_udp_blur_takes_its_parameter_default(connection: Any, tmp_path: Path) -> None:
    """TestUdp.test_udp_usage_blur_parameter_default (L1502-1531, ``TERRASCOPE_S2_TOC_V2``
    as ``SENTINEL2_L2A``, ``red``/``green`` its common names): a stored ``apply_kernel``
    UDP whose ``factor`` is a parameter with default 0.1, called without it: two bands,
    each ``0.1 * (kernel [[1,1,1],[1,2,1],[1,1,1]] over B04/B03)`` in the interior."""
    from openeo.rest.datacube import THIS
    from openeo.rest.udp import Parameter
    from scipy.ndimage import correlate

    blur = {
        "blur": {
            "process_id": "apply_kernel",
            "arguments": {
                "data": {"from_parameter": "data"},
                "kernel": [[1, 1, 1], [1, 2, 1], [1, 1, 1]],
                "factor": {"from_parameter": "scale"},
            },
            "result": True,
        },
    }
    connection.save_user_defined_process(
        "blur", blur,
        parameters=[Parameter("scale", description="factor", schema="number", default=0.1)],
    )  # fmt: skip
    cube = (
        connection.load_collection("SENTINEL2_L2A")
        .filter_bands(["red", "green"])
        .filter_temporal(DAY, "2023-06-13")
        .filter_bbox(**BBOX)
        .process("blur", arguments={"data": THIS})
    )
    cube.download(tmp_path / "mol.tiff", format="GTIFF")
    got = read_tiff(tmp_path / "mol.tiff")
    raw = raw_bands(connection, ["B04", "B03"], tmp_path / "raw.nc", dates=[DAY, "2023-06-13"])
    kernel = np.array([[1, 1, 1], [1, 2, 1], [1, 1, 1]], float)
    assert got.shape[0] == 2
    for i, band in enumerate(("B04", "B03")):
        want = 0.1 * correlate(raw[band].values[0].astype(np.float64), kernel, mode="nearest")
        np.testing.assert_allclose(got[i][1:-1, 1:-1], want[1:-1, 1:-1], rtol=1e-5)
