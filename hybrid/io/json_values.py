"""A JSON result that is neither a time series nor a vector cube, read back as cells for
comparison (:mod:`hybrid.value_comparison`): a graph ending in a number, a list, an
object, and above all a ``run_udf`` over an aggregate_spatial time series, whose answer
is pandas' ``split`` layout (``{"columns", "index", "data"}``, the rows of each feature
after ``feature_index``; :mod:`hybrid.backends.local.processes.vector_udf`).

A cell is (row, column, value). In the ``split`` layout a row is named by its
``feature_index`` and index label (Copernicus groups the features in no fixed order, so
rows are matched by name, not position) and a column by its label; any other document
has one column, ``value``, and a row per leaf named by its path (``[0].mean``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.errors import UsageError

if TYPE_CHECKING:
    import xarray as xr

#: attrs flag of a cube of JSON cells (:func:`read_json_value`)
JSON_VALUE = "hybrid:json_value"
#: the file a JSON value result is saved as (``save_result`` of a value, ``run_udf``)
VALUE_FILE = "result.json"
#: the column of a document that is not a table
VALUE_COLUMN = "value"
_SPLIT_KEYS = frozenset({"columns", "index", "data"})
_FEATURE = "feature_index"


def value_file(path: Path) -> Path | None:
    """``path`` when it is a ``.json`` file, or the folder's ``result.json``; else None."""
    if path.is_dir():
        found = path / VALUE_FILE
        return found if found.is_file() else None
    return path if path.suffix.lower() == ".json" else None


def read_json_value(path: Path) -> xr.DataArray:
    """The cells of a JSON result file (module docstring) as a 1-D cube over ``cell``
    with ``row`` and ``column`` coordinates; the values are objects (numbers, texts,
    booleans, None)."""
    import numpy as np
    import xarray as xr

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path} as JSON: {exc}") from None
    cells = split_cells(document) if is_split(document) else leaf_cells(document)
    values = np.empty(len(cells), dtype=object)
    values[:] = [value for _, _, value in cells]
    cube = xr.DataArray(
        values,
        dims=("cell",),
        coords={
            "row": ("cell", [row for row, _, _ in cells]),
            "column": ("cell", [column for _, column, _ in cells]),
        },
    )
    cube.attrs.update({JSON_VALUE: True, "source": str(path)})
    return cube


def is_split(document: Any) -> bool:
    """Whether ``document`` is pandas' ``to_json(orient="split")`` of a frame."""
    return (
        isinstance(document, Mapping)
        and set(document) == _SPLIT_KEYS
        and isinstance(document["data"], list)
        and all(isinstance(row, list) for row in document["data"])
    )


def split_cells(document: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The cells of a ``split`` document, rows named by feature and index label."""
    columns = [str(c) for c in document["columns"]]
    index = list(document["index"]) or list(range(len(document["data"])))
    feature = columns.index(_FEATURE) if _FEATURE in columns else None
    cells = []
    for label, row in zip(index, document["data"], strict=False):
        name = str(label) if feature is None else f"feature {row[feature]} / {label}"
        cells += [(name, c, v) for i, (c, v) in enumerate(zip(columns, row, strict=False))
                  if i != feature]  # fmt: skip
    return cells


def leaf_cells(document: Any) -> list[tuple[str, str, Any]]:
    """The leaves of any JSON document, each named by its path, without recursion."""
    cells: list[tuple[str, str, Any]] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, Mapping) and item:
            stack += [(f"{path}.{key}" if path else str(key), v) for key, v in item.items()]
        elif isinstance(item, list) and item:
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(item)]
        else:  # a number, text, boolean, null, or an empty list or object
            cells.append((path or "(document)", VALUE_COLUMN, item))
    return sorted(cells, key=lambda cell: cell[0])
