"""The check every process with a ``dimension`` parameter makes first."""

from __future__ import annotations

from typing import Any

from hybrid.errors import ProcessParameterInvalid
from hybrid.io.cube import BAND_NAMES, UNNAMED_BANDS


def require_dimension(data: Any, dimension: str, process: str) -> None:
    """Refuse a dimension the cube does not have (openEO's DimensionNotAvailable)."""
    if dimension not in data.dims:
        raise ProcessParameterInvalid(
            f"{process}: dimension '{dimension}' is not available (DimensionNotAvailable); "
            f"the cube has {', '.join(map(str, data.dims))}"
        )


#: the dimensions every Copernicus cube may have besides its one band dimension
_SPACE_TIME = ("x", "y", "t")


def band_dimension(cube: Any) -> str | None:
    """The cube's band dimension, whatever its name, as Copernicus sees it: ``bands``,
    else the one dimension besides x, y and t (a geotrellis cube is a multiband tile per
    (x, y, t) key, so ``add_dimension(name="bands2", type="bands")`` or a renamed band
    dimension is still its band dimension: openeo-geopyspark-driver
    geopysparkdatacube.py ``add_dimension`` L448-461 only relabels the metadata)."""
    if "bands" in cube.dims:
        return "bands"
    others = [str(d) for d in cube.dims if d not in _SPACE_TIME]
    return others[0] if len(others) == 1 else None


def bands_by_position(cube: Any, other: Any) -> Any | None:
    """``other`` with the band dimension (name and labels) of ``cube`` when both have one
    with as many bands, band i labelled as ``cube``'s band i: Copernicus pairs two cubes'
    bands by position, whatever their names (``mask``: DatacubeSupport.scala
    ``rasterMaskGeneric`` L227-233; ``merge_cubes`` with a resolver: OpenEOProcesses.scala
    L991); None otherwise, each caller has its own rule then."""
    mine, theirs = band_dimension(cube), band_dimension(other)
    if mine is None or theirs is None or other.sizes[theirs] != cube.sizes[mine]:
        return None
    renamed = other.rename({theirs: mine}) if theirs != mine else other
    return renamed.assign_coords({mine: cube[mine].values})


#: a cube attribute: band label -> the collection band it was renamed from (None: none),
#: as Copernicus's band metadata keeps a renamed band's common name and aliases
#: (``rename_labels`` with ``source``) or drops them (without: openeo-python-client
#: ``metadata.py`` ``BandDimension.rename_labels``, called by openeo-geopyspark-driver
#: 9baf2e10 ``geopysparkdatacube.py`` L499-511)
BAND_ORIGINS = "hybrid:band_origins"


def band_origins(cube: Any) -> dict[str, str | None]:
    """What each renamed band label of ``cube`` stands for (:data:`BAND_ORIGINS`)."""
    return dict(getattr(cube, "attrs", {}).get(BAND_ORIGINS) or {})


def names_as_written(names: list[Any], count: int) -> list[Any]:
    """The names of ``count`` bands whose metadata holds ``names``, as Copernicus's netCDF
    writer gives them: the first ``names``, then ``unkown_band_<i>`` (sic) for a band
    beyond them (geotrellis-extensions NetCDFRDDWriter.scala L176-181); a name beyond the
    bands names none."""
    return names[:count] + [f"unkown_band_{i}" for i in range(len(names), count)]


def with_band_names(cube: Any, dimension: str, names: list[Any]) -> Any:
    """``cube`` recording what Copernicus's band metadata holding ``names`` says of its
    bands: the labels of its bands beyond the names as
    :data:`hybrid.io.cube.UNNAMED_BANDS` (:func:`names_as_written`), to which its GTiff
    writer gives no ``DESCRIPTION`` and its asset no ``bands`` entry (geopyspark-driver
    geopysparkdatacube.py L2305-2316, L2398-2400), and ``names`` beyond the bands as
    :data:`hybrid.io.cube.BAND_NAMES`, which the asset of a GTiff without time lists
    (L2497-2504, L2529-2532; geotrellis-extensions geotiff/package.scala L253-254)."""
    labels = [str(label) for label in cube[dimension].values.tolist()]
    beyond = tuple(labels[len(names) :])
    attrs = {k: v for k, v in cube.attrs.items() if k not in (UNNAMED_BANDS, BAND_NAMES)}
    if beyond:
        attrs[UNNAMED_BANDS] = beyond
    if len(names) > len(labels):
        attrs[BAND_NAMES] = (*labels, *(str(name) for name in names[len(labels) :]))
    out = cube.copy(deep=False)
    out.attrs = attrs
    return out
