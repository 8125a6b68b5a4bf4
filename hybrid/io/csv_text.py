"""CSV results: vector cubes (``aggregate_spatial``) as Copernicus's ``timeseries.csv``.

``date,feature_index,<band columns>`` as Spark writes it in openeo-geotrellis-extensions
AggregatePolygonProcess.scala (``aggregateByDateAndPolygon``): dates
``2020-06-26T00:00:00.000Z``, missing values empty, one column per band (``band_unnamed``
for a cube without bands); without ``t``: ``feature_index,<band columns>``
(``aggregateByPolygon``). A geometry that covers no pixel centre
(aggregate_spatial's ``attrs["uncovered"]``) has no row: Spark only aggregates the
rasterised pixels (AggregatePolygonProcess.scala ``aggregateSpatialGeneric`` L270-277,
``aggregateByDateAndPolygon`` L361-370). The CDSE NDVI_Timeseries notebook reads it with
``pd.read_csv(path, index_col=0)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.csv``."""
    from hybrid.io.vector import write_file

    return write_file(out_dir, ".csv", timeseries_csv(cube))


def timeseries_csv(cube: Any) -> str:
    import numpy as np

    from hybrid.io.vector import band_columns, date_text, ordered

    cube = ordered(cube)
    values = cube.values

    def cells(row: Any) -> list[str]:
        return ["" if np.isnan(v) else repr(float(v)) for v in row]

    columns = band_columns(cube)
    uncovered = set(cube.attrs.get("uncovered") or ())
    rows = [(fi, f) for fi, f in enumerate(values) if fi not in uncovered]
    if "t" not in cube.dims:
        lines = [",".join(["feature_index", *columns])]
        lines += [",".join([str(fi), *cells(f)]) for fi, f in rows]
        return "\n".join(lines) + "\n"
    lines = [",".join(["date", "feature_index", *columns])]
    for ti, label in enumerate(cube["t"].values):
        date = date_text(label, millis=True)
        lines += [",".join([date, str(fi), *cells(f[ti])]) for fi, f in rows]
    return "\n".join(lines) + "\n"


FORMAT = Format(
    name="CSV",
    title="Comma Separated Values (CSV)",
    suffixes=(".csv",),
    media_type="text/csv",
    per_label=False,
    writers={"vector": write_vector},
)
