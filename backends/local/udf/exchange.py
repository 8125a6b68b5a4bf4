"""Chunks of a data cube as files: ``NAME.npy`` (values) and ``NAME.json`` (dims, coords);
a table task's time series and answer as JSON (:data:`TABLE`, :data:`TABLE_RESULT`).

Both directions use the same format: the server writes the input chunks into the
worker's exchange folder, the worker writes the UDF's results beside them. Reading
never unpickles (``allow_pickle=False``) and the JSON holds only dims, coordinate values
and attributes, so a hostile UDF's output cannot run code in the server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from hybrid.errors import HybridError

_DATETIME = "datetime64[ns]"
#: a table task's input (an aggregate_spatial time series) and the worker's JSON answer
TABLE = "table.json"
TABLE_RESULT = "result.json"
#: a features task's input (GeoJSON geometries, or a JSON value); its answer goes to
#: TABLE_RESULT
FEATURES = "features.json"
#: the largest ``NAME.json`` read (dims, coordinates: kilobytes for a real chunk)
_META_BYTES = 16 * 1024**2


class TooLarge(HybridError):
    """A ``.npy`` file announcing more bytes than its reader accepts."""


def _encode_values(values: np.ndarray) -> dict[str, Any]:
    if np.issubdtype(values.dtype, np.datetime64):
        text = np.datetime_as_string(values.astype(_DATETIME), unit="ns")
        return {"type": "datetime", "values": text.tolist()}
    if values.dtype.kind in "OSU":
        return {"type": "str", "values": [str(v) for v in values.tolist()]}
    return {"type": "number", "values": values.astype(np.float64).tolist()}


def _decode_values(encoded: dict[str, Any]) -> np.ndarray:
    kind = encoded.get("type")
    values = encoded.get("values", [])
    if kind == "datetime":
        return np.array([np.datetime64(str(v).rstrip("Z"), "ns") for v in values])
    if kind == "str":
        return np.array([str(v) for v in values], dtype=object)
    return np.asarray(values, dtype=np.float64)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def write_chunk(folder: Path, name: str, array: xr.DataArray) -> None:
    """``array`` (its 1-D coordinates and plain attributes) as ``folder/name.*``."""
    coords = {
        str(c): {"dims": [str(d) for d in array[c].dims], **_encode_values(array[c].values)}
        for c in array.coords
        if array[c].ndim == 1
    }
    meta = {
        "dims": [str(d) for d in array.dims],
        "coords": coords,
        "attrs": {str(k): _plain(v) for k, v in array.attrs.items()},
        "name": None if array.name is None else str(array.name),
    }
    np.save(folder / f"{name}.npy", np.ascontiguousarray(array.values), allow_pickle=False)
    (folder / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")


def _load_numbers(path: Path, max_bytes: int | None) -> np.ndarray:
    """The array of a ``.npy`` file of booleans or numbers whose header agrees with its
    size: a UDF may write the file itself, and a header claiming 23 TiB made the
    server allocate them (a MemoryError, a 500). Beyond ``max_bytes``, :class:`TooLarge`
    before reading any value: a sparse file of 2 GiB takes no disk space, and all of
    it went into the server's memory."""
    with path.open("rb") as file:
        major, _ = np.lib.format.read_magic(file)
        read_header = np.lib.format.read_array_header_1_0
        if major != 1:
            read_header = np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(file)
        if dtype.kind not in "biuf":
            raise ValueError(f"{path.name} holds {dtype} values, not real numbers")
        size = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if size != path.stat().st_size - file.tell():
            raise ValueError(f"{path.name} does not hold the {shape} values it announces")
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(f"{size / 1024**2:.1f} MiB of {dtype} values of shape {shape}")
        file.seek(0)
        return np.asarray(np.load(file, allow_pickle=False))


def read_chunk(folder: Path, name: str, max_bytes: int | None = None) -> xr.DataArray:
    """The array :func:`write_chunk` wrote as ``folder/name.*``; its values at most
    ``max_bytes`` (:class:`TooLarge`)."""
    with (folder / f"{name}.json").open("rb") as file:
        text = file.read(_META_BYTES + 1)
    if len(text) > _META_BYTES:
        raise ValueError(f"{name}.json holds more than {_META_BYTES // 1024**2} MiB")
    meta = json.loads(text.decode("utf-8"))
    values = _load_numbers(folder / f"{name}.npy", max_bytes)
    dims = [str(d) for d in meta["dims"]]
    coords = {
        str(c): (tuple(str(d) for d in spec["dims"]), _decode_values(spec))
        for c, spec in meta.get("coords", {}).items()
    }
    return xr.DataArray(
        values, dims=dims, coords=coords, attrs=dict(meta.get("attrs") or {}), name=meta.get("name")
    )
