"""``hybrid run --overwrite`` of the workflow's own result: the old result is replaced,
never merged into, and a netCDF ``--out`` that is a folder is refused before anything
runs, so no file is left behind (README, "Command line")."""

from __future__ import annotations

from hybrid.cli import main

WINDOW = ["--start", "2023-06-01", "--end", "2023-06-20", "--quiet"]


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_overwrite_replaces_a_gtiff_folder_instead_of_adding_to_it(sample_catalog, tmp_path):
    out = tmp_path / "tiffs"
    run = ["run", "--stac", str(sample_catalog), "--format", "GTiff", "--out", str(out), *WINDOW]
    assert main([*run, "--period", "week"]) == 0
    assert len(_names(out)) > 1
    assert main([*run, "--period", "month", "--overwrite"]) == 0
    assert _names(out) == ["openEO_2023-06-01Z.tif"]  # the weekly files are gone


def test_overwrite_never_replaces_a_gtiff_folder_holding_other_things(
    sample_catalog, tmp_path, capsys
):
    out = tmp_path / "tiffs"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    run = ["run", "--stac", str(sample_catalog), "--format", "GTiff", "--out", str(out), *WINDOW]
    assert main([*run, "--overwrite"]) == 2
    assert "holds other things (notes.txt)" in capsys.readouterr().err
    assert _names(out) == ["notes.txt"]


def test_a_netcdf_out_that_is_a_folder_is_refused_and_left_as_it_was(
    sample_catalog, tmp_path, capsys
):
    out = tmp_path / "results"
    out.mkdir()
    (out / "old.nc").write_text("keep me")
    run = ["run", "--stac", str(sample_catalog), "--out", str(out), *WINDOW]
    for extra in ([], ["--overwrite"]):
        assert main([*run, *extra]) == 2
        assert _names(out) == ["old.nc"], extra  # no openEO.nc left behind
    assert "is a folder" in capsys.readouterr().err
