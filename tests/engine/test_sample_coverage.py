"""A load beyond the embedded sample says so: the sample is a few kilometres of
synthetic scenes in one season, where Copernicus has data everywhere; a load reaching
beyond it got no data there without a word (a user's comparison with a recording then
failed for a reason nobody named)."""

from __future__ import annotations

import warnings

import pytest

from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.errors import HybridWarning
from hybrid.grid import BBox
from tests.server_helpers import SEED_BBOX

INSIDE = BBox(SEED_BBOX["west"], SEED_BBOX["south"], SEED_BBOX["east"], SEED_BBOX["north"])


def _load(bbox: BBox, start: str = "2023-06-01", end: str = "2023-07-01") -> None:
    load_s2(
        None, LoadRequest(bbox=bbox, start=start, end=end, bands=("B04",), max_cloud_cover=None)
    )


def test_a_load_inside_the_sample_is_quiet() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridWarning)
        _load(INSIDE)


@pytest.mark.parametrize(
    ("bbox", "dates", "words"),
    [
        (BBox(6.60, 45.23, 6.63, 45.26), ("2023-06-01", "2023-07-01"), "% of the requested area"),
        (INSIDE, ("2023-03-01", "2023-07-01"), "some of the requested dates"),
        (INSIDE, ("2023-06-01", "2023-12-01"), "some of the requested dates"),
    ],
)
def test_a_load_beyond_the_sample_warns_once_naming_what(
    bbox: BBox, dates: tuple[str, str], words: str
) -> None:
    with pytest.warns(HybridWarning, match="embedded sample.s scenes lie within") as caught:
        _load(bbox, *dates)
    (warning,) = [w for w in caught if "embedded sample" in str(w.message)]
    assert words in str(warning.message) and "--stac" in str(warning.message)


def test_a_load_inside_the_sample_given_in_utm_is_quiet() -> None:
    """A spatial_extent in UTM was compared with the scenes' lon/lat footprint as if it
    were degrees: "100% of the requested area" outside."""
    from hybrid.grid import lonlat_bbox

    utm = BBox(316000.0, 5011000.0, 317400.0, 5014500.0, crs="EPSG:32632")
    assert INSIDE.west < lonlat_bbox(utm).west < lonlat_bbox(utm).east < INSIDE.east
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridWarning)
        _load(utm)


def test_a_load_finding_nothing_names_the_extent_crs_and_its_lon_lat() -> None:
    """Degrees given with a UTM crs (an archived EURAC notebook's filter_bbox) lie near
    0 N 4.5 E: the message says where that is, not only the numbers."""
    from hybrid.errors import NoDataAvailable

    degrees_as_utm = BBox(6.655, 45.235, 6.67, 45.245, crs="EPSG:32632")
    where = r"45\.24500 in EPSG:32632 \(lon/lat 4\.51132,0\.00041"
    with pytest.raises(NoDataAvailable, match=where):
        _load(degrees_as_utm)
