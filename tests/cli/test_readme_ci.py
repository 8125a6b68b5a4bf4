"""The README's "In your own CI" commands, run as written: a graph recorded on a backend
whose scenes are not the embedded sample (here the emulator over tiny scenes standing in
for Copernicus, a static catalog for Earth Search), run offline and compared equivalent."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from hybrid.cli import main
from tests.server_helpers import local_server, openeo_env
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[list[str]]:
    """The ``sh`` block of the README's "In your own CI", one argument list a command."""
    section = README.read_text().split("### In your own CI", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


@pytest.fixture
def fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A working folder with ``fields.geojson``, scenes that differ from the embedded
    sample's, and credentials for ``hybrid record``."""
    monkeypatch.chdir(tmp_path)
    for key, value in openeo_env(tmp_path / "home").items():
        if key.startswith(("OPENEO", "XDG")):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "hybrid")
    scenes = [
        TinyScene("S2B_32TLR_20230607_0_L2A", "2023-06-07T10:30:00Z", 5.0),
        TinyScene("S2A_32TLR_20230612_0_L2A", "2023-06-12T10:30:00Z", 5.0, red=1000),
    ]
    catalog = write_tiny_catalog(tmp_path / "earth-search", scenes)
    west, south, east, north = (round(v, 4) for v in tiny_bbox())
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    Path("fields.geojson").write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    extent = {"west": west, "south": south, "east": east, "north": north}
    return {"catalog": str(catalog), **{k: str(v) for k, v in extent.items()}}


@pytest.mark.slow
def test_the_readme_ci_commands_hold_a_recording_against_its_offline_run(fields, tmp_path):
    import openeo

    commands = readme_commands()
    assert [c[:2] for c in commands] == [["hybrid", "record"], ["hybrid", "cache"],
                                         ["hybrid", "run"], ["hybrid", "compare"]]  # fmt: skip
    with local_server(tmp_path / "served", Path(fields["catalog"])) as copernicus:
        connection = openeo.connect(copernicus.url).authenticate_basic("hybrid", "hybrid")
        cube = connection.load_collection(
            "SENTINEL2_L2A",
            spatial_extent={k: float(fields[k]) for k in ("west", "south", "east", "north")},
            temporal_extent=["2023-06-01", "2023-07-01"],
            bands=["B04", "B08", "SCL"],
        )
        with open("fields.json", "w") as stream:
            cube.ndvi().save_result("netCDF").print_json(file=stream)
        names = {"copernicus": copernicus.url, "earth-search": fields["catalog"]}
        for command in commands:
            args = [names.get(arg, arg) for arg in command[1:]]
            assert main(args) == 0, shlex.join(command)
