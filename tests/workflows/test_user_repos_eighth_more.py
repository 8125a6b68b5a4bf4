"""Users' own repositories, round 8b: more of the published client code of round 8
(``tests/workflows/test_user_repos_eighth.py``), read from the checkouts (or bare git
directories) named by the same environment variables, never copied here, skipped without:

- ``HYBRID_MOUNTAINS_SNOW``: SNOWCOP/openeo_mountains_snow ``snow_cover_fraction.py``
  ``snow_cover_fraction_cube``: the inputs of round 8 handed to the representative-pixels
  UDF (``representative_pixels.py``) in ``apply_neighborhood`` of 2460 x 1800 px and ``t``
  "P1D", with its context ``{"classify": True}`` (K-means samples, an SVM, the snow cover
  fraction of each pixel), on a snow-covered field of the sample.

Only the connection, extents, dates and collections are adapted, as in round 8; each
result is checked against the same UDF run by ``openeo.udf.run_udf_code`` on what the
same server downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.published import published_text
from tests.workflows.test_user_repos_eighth import SNOW_ENV, _nc, _snow

pytestmark = pytest.mark.slow

#: two dates of the snow season (one mostly clear, one with clouds), to keep the UDF short
SNOW_DAYS = ["2023-05-01", "2023-05-12"]
#: a field at the sample's southern end, snow-covered above ~1600 m in early May
SNOW_FIELD = (6.660, 45.226, 6.668, 45.234)


def _representative_udf(folder: Path) -> str:
    """``representative_pixels.py`` as published, written where the namespace's
    ``files('openeo_mountains_snow')`` points (the package is not installed here)."""
    code = published_text(
        SNOW_ENV, "src/openeo_mountains_snow/representative_pixels.py",
        "SNOWCOP/openeo_mountains_snow",
    )  # fmt: skip
    (folder / "representative_pixels.py").write_text(code, encoding="utf-8")
    return code


#: the published SVM passes ``probability=False``, which scikit-learn 1.9 warns about
@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")
def test_snow_cover_fraction_of_the_representative_pixels_udf(
    connection: Any, tmp_path: Path
) -> None:
    """``snow_cover_fraction_cube``: ``apply_neighborhood`` of the UDF over 2460 x 1800 px
    and ``t`` "P1D" (Copernicus: ``apply_tiles``, one ``(bands, y, x)`` chunk per date,
    geopysparkdatacube.py L1371-1373), ``apply_metadata`` naming the one band it keeps
    ``representative``, then ``rename_labels`` to the same name. Checked against the UDF
    run on each date of the downloaded inputs."""
    import shapely
    from openeo.udf import XarrayDataCube, run_udf_code
    from openeo.udf.udf_data import UdfData

    code = _representative_udf(tmp_path)
    namespace, cfg = _snow()
    namespace["files"] = lambda package: tmp_path
    namespace["REPRESENTATIVE_PIXEL_BAND_NAME"] = "representative"
    cube = namespace["snow_cover_fraction_cube"](
        shapely.box(*SNOW_FIELD), SNOW_DAYS, connection, cfg
    )
    cube.download(tmp_path / "scf.nc", format="netCDF")
    got = _nc(tmp_path / "scf.nc")
    inputs = namespace["snowflake_inputs_cube"](
        shapely.box(*SNOW_FIELD), SNOW_DAYS, connection, cfg
    )
    inputs.download(tmp_path / "inputs.nc", format="netCDF")
    raw = _nc(tmp_path / "inputs.nc")
    names = [v for v in raw.data_vars if v != "crs"]
    assert [v for v in got.data_vars if v != "crs"] == ["representative"]
    assert got.sizes["t"] == raw.sizes["t"] >= 2
    for k in range(raw.sizes["t"]):
        chunk = xr.DataArray(
            np.stack([raw[n].values[k] for n in names]).astype(np.float32),
            dims=("bands", "y", "x"),
            coords={"bands": names, "y": raw["y"].values, "x": raw["x"].values},
        )
        data = UdfData(datacube_list=[XarrayDataCube(chunk)], user_context={"classify": True})
        want = run_udf_code(code, data).get_datacube_list()[0].get_array().values[0]
        np.testing.assert_array_equal(got["representative"].values[k], want, err_msg=str(k))
    # the first date's snow and snow-free samples trained the SVM: a fraction 0-100 for
    # each pixel with values, 255 where clouds or the elevation mask left none
    first = got["representative"].values[0]
    assert set(np.unique(first)) <= {*range(101), 255}
    assert ((first > 0) & (first < 100)).sum() > 50 and (first == 255).sum() > 50
