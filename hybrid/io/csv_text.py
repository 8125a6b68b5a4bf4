"""CSV results: vector cubes (``aggregate_spatial``) as Copernicus's ``timeseries.csv``.

``date,feature_index,<band columns>`` as Spark writes it in openeo-geotrellis-extensions
AggregatePolygonProcess.scala (``aggregateByDateAndPolygon``): dates
``2020-06-26T00:00:00.000Z``, missing values empty, one column per band (``band_unnamed``
for a cube without bands; with several statistics Spark's names of them, ``avg(B04)``:
:func:`hybrid.io.vector.spark_columns`), an integer column's values as integers and a double's as
Java writes it (:func:`java_double`); without ``t``: ``feature_index,<band columns>``
(``aggregateByPolygon``). A geometry that covers no pixel centre
(aggregate_spatial's ``attrs["uncovered"]``) has no row: Spark only aggregates the
rasterised pixels (AggregatePolygonProcess.scala ``aggregateSpatialGeneric`` L270-277,
``aggregateByDateAndPolygon`` L361-370); nor has a geometry on a date without a tile
under it (``attrs["absent"]``: backends/local/processes/tile_rows.py). The CDSE
NDVI_Timeseries notebook reads it with ``pd.read_csv(path, index_col=0)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format, one_file


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.csv`` of an aggregate_spatial result,
    ``vectorcube.csv`` of another vector cube (:mod:`hybrid.io.vector_frame`)."""
    from hybrid.io.vector import is_aggregate_result, write_file

    if not is_aggregate_result(cube):
        from hybrid.io.vector_frame import write_csv

        return write_csv(cube, out_dir, options)
    return write_file(out_dir, ".csv", timeseries_csv(cube))


def timeseries_csv(cube: Any) -> str:
    columns, rows = timeseries_rows(cube)
    lines = [",".join(map(_quoted, columns))]
    lines += [",".join("" if cell is None else cell for cell in row) for row in rows]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A header cell as Spark's CSV writer gives it: in quotes when it holds a comma,
    quote or line break (``"percentile_approx(B04, 0.5, 100000)"``), a quote escaped by
    a backslash (Spark's default ``escape``)."""
    if not any(c in text for c in ',"\n\r'):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def timeseries_rows(cube: Any) -> tuple[list[str], list[list[str | None]]]:
    """The CSV's header and rows, each cell as text (None: an empty cell), as Spark reads
    them back (run_udf over a time series: hybrid.backends.local.udf.feature_tables)."""
    import numpy as np

    from hybrid.io.vector import (
        absent,
        covered,
        date_text,
        integer_columns,
        ordered,
        spark_columns,
    )

    cube = ordered(cube)
    values = cube.values
    integers = integer_columns(cube)

    def cells(row: Any) -> list[str | None]:
        return [
            None if np.isnan(v) else str(int(v)) if whole else java_double(float(v))
            for v, whole in zip(row, integers, strict=True)
        ]

    columns = spark_columns(cube)
    features = [(fi, values[fi]) for fi in covered(cube)]
    if "t" not in cube.dims:
        return ["feature_index", *columns], [[str(fi), *cells(f)] for fi, f in features]
    missing = absent(cube)
    rows = [
        [date_text(label, millis=True), str(fi), *cells(f[ti])]
        for ti, label in enumerate(cube["t"].values)
        for fi, f in features
        if (fi, ti) not in missing
    ]
    return ["date", "feature_index", *columns], rows


def java_double(value: float) -> str:
    """``value`` as Spark's CSV writer gives a double (Java's ``Double.toString``): the
    shortest digits, positional from 1e-3 to 1e7 (``415.0``), else ``3.1067746E7``,
    ``9.5E-5``."""
    import math
    from decimal import Decimal

    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()[1:]
    digits = "".join(map(str, digits_tuple))
    scientific = len(digits) - 1 + int(exponent)
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{scientific}"


def read_series(files: list[Path], *, source: Path) -> Any:
    """The registry's vector reader: a ``timeseries.csv`` as a series
    (:mod:`hybrid.io.series`); the columns besides ``date`` and ``feature_index`` are the
    bands."""
    import csv

    from hybrid.errors import UsageError
    from hybrid.io.series import series

    file = one_file(files, source, "CSV")
    try:
        with file.open(encoding="utf-8", newline="") as text:
            header, *rows = list(csv.reader(text))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {file} as CSV: {exc}") from None
    if "feature_index" not in header:
        raise UsageError(f"{file} has no feature_index column: not an aggregate_spatial result")
    index = header.index("feature_index")
    date = header.index("date") if "date" in header else None
    bands = [i for i, name in enumerate(header) if i not in (index, date)]
    try:
        records = [
            (None if date is None else row[date], int(row[index]), [row[i] for i in bands])
            for row in rows
            if row
        ]
        return series(records, [header[i] for i in bands], source=file)
    except (ValueError, IndexError) as exc:
        raise UsageError(f"{file} is not an aggregate_spatial result: {exc}") from None


FORMAT = Format(
    name="CSV",
    title="Comma Separated Values (CSV)",
    suffixes=(".csv",),
    media_type="text/csv",
    per_label=False,
    writers={"vector": write_vector},
    readers={"vector": read_series},
)
