"""rename_labels as Copernicus renames: a temporal dimension keeps its dates, the band
dimension finds its source bands as the openeo client's ``BandDimension`` does and, without
``source``, takes ``target`` whatever its length (only the metadata is renamed there)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.processes.cube_dimensions import (
    BAND_ORIGINS,
    band_dimension,
    band_origins,
    names_as_written,
    require_dimension,
    with_band_names,
)
from hybrid.errors import ProcessParameterInvalid


def _plain(value: Any) -> Any:
    """Unwrap openeo-pg-parser-networkx's models: it reads two date-like strings as a
    TemporalInterval, one as a DateTime."""
    while hasattr(value, "root"):
        value = value.root
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _position(labels: Any, wanted: Any) -> int | None:
    hits = [i for i, label in enumerate(labels.tolist()) if label == wanted]
    if not hits:
        hits = [i for i, label in enumerate(labels.tolist()) if str(label) == str(wanted)]
    return hits[0] if hits else None


def _band(labels: Any, wanted: Any, origins: dict[str, str | None]) -> int | None:
    """A source band as Copernicus finds it (``BandDimension.rename_labels`` ->
    ``band_index``: common name, label, alias; :func:`hybrid.collection.band_position`)."""
    from hybrid.collection import band_position

    return band_position([str(b) for b in labels.tolist()], str(wanted), origins)


def rename_labels(data: Any, dimension: str, target: Any, source: Any = None) -> Any:
    """rename_labels on any dimension but a temporal one.

    Without ``source``, as many targets as labels rename them all, as Copernicus does
    (the spec would want enumerated labels: LabelsNotEnumerated); on the band dimension
    another count of targets names the bands as Copernicus does (:func:`_without_source`),
    elsewhere fewer targets rename the first enumerated labels 0, 1, ...

    A temporal dimension keeps its dates, as on Copernicus: its rename_labels changes
    only the cube's metadata (openeo-geopyspark-driver ``geopysparkdatacube.py``
    L499-511), where a temporal dimension holds no labels
    (openeo-python-client ``openeo/metadata.py`` L109-111,
    ``TemporalDimension.rename_labels`` returns the dimension as it was); the tiles stay
    keyed by their dates, so later processes and the written files (the netCDF ``t``)
    see the original dates and no error is raised for any target or source.
    """
    require_dimension(data, dimension, "rename_labels")
    labels = np.asarray(data[dimension].values)
    if labels.dtype.kind == "M":
        return data
    target, source = _plain(target), _plain(source)
    if source:
        new = _with_source(data, dimension, labels, target, source)
    else:
        new = _without_source(data, dimension, labels, target)
    texts = [str(v) for v in new]
    if len(set(texts)) != len(texts):
        raise ProcessParameterInvalid(
            f"rename_labels: the new labels of '{dimension}' are not unique (LabelExists)"
        )
    kinds = {type(v) for v in new}
    values = np.asarray(new, dtype=object if len(kinds) > 1 else None)
    out = data.assign_coords({dimension: values})
    if dimension == band_dimension(data):
        out.attrs[BAND_ORIGINS] = _renamed_origins(data, labels, new, bool(source))
        if not source:  # Copernicus's band metadata is ``target`` (_band_names_as_written)
            out = with_band_names(out, dimension, target)
    return out


def _without_source(data: Any, dimension: str, labels: Any, target: list[Any]) -> list[Any]:
    """The new labels for ``target`` alone: all of them renamed when as many; on the band
    dimension as Copernicus whatever its length and whatever the labels were, numbered
    ones too (:func:`_band_names_as_written`); elsewhere the first enumerated ones when
    fewer."""
    enumerated = labels.dtype.kind in "iu" and np.array_equal(labels, np.arange(labels.size))
    if len(target) == labels.size:
        # Copernicus renames all labels (openeo-geopyspark-driver geopysparkdatacube.py
        # rename_labels -> openeo metadata.py BandDimension.rename_labels: target)
        return list(target)
    if dimension == band_dimension(data):
        return _band_names_as_written(list(target), labels.size)
    if enumerated and len(target) < labels.size:
        return [*target, *labels[len(target) :].tolist()]
    raise ProcessParameterInvalid(
        f"rename_labels: {len(target)} target labels for the {labels.size} labels of "
        f"'{dimension}', which are not enumerated (LabelsNotEnumerated); give `source`"
    )


def _with_source(
    data: Any, dimension: str, labels: Any, target: list[Any], source: list[Any]
) -> list[Any]:
    """The new labels with ``source[i]`` renamed ``target[i]``."""
    if len(source) != len(target):
        raise ProcessParameterInvalid(
            f"rename_labels: {len(source)} source and {len(target)} target labels (LabelMismatch)"
        )
    new = list(labels)
    bands = dimension == band_dimension(data)
    for old, name in zip(source, target, strict=True):
        index = _band(labels, old, band_origins(data)) if bands else _position(labels, old)
        if index is None:
            raise ProcessParameterInvalid(
                f"rename_labels: label {old!r} is not in dimension '{dimension}' "
                "(LabelNotAvailable)"
            )
        new[index] = name
    return new


def _band_names_as_written(target: list[Any], count: int) -> list[Any]:
    """The names of ``count`` bands renamed to ``target`` of another length, without
    ``source``: Copernicus renames only its metadata, to ``target`` whatever its length
    (geopysparkdatacube.py ``rename_labels`` L499-511; openeo client metadata.py
    ``BandDimension.rename_labels`` L240-241), and the tiles keep their ``count`` bands.
    Its netCDF writer names a band beyond ``target`` ``unkown_band_<i>`` (sic) and gives
    a name beyond the bands a variable with no values (geotrellis-extensions
    NetCDFRDDWriter.scala L176-186, L197): so here the bands get the first ``target``
    names, then ``unkown_band_<i>``; the extra names name no band (a look-up of one fails
    on Copernicus too: OpenEOProcessScriptBuilder.scala L1648-1649) and only the asset of
    a GTiff without time lists them (:func:`cube_dimensions.with_band_names`). A warning
    says so."""
    from hybrid.run_warnings import warn

    kept = names_as_written(target, count)
    if len(target) > count:
        detail = f"the names {target[count:]} name no band (Copernicus's netCDF writes them empty)"
    else:
        detail = f"the bands beyond them are {kept[len(target) :]}, as Copernicus writes them"
    warn(
        f"rename_labels: {len(target)} target labels for {count} bands without `source`: "
        f"Copernicus renames only its band metadata, {detail}; give `source` or "
        "as many labels as bands"
    )
    return kept


def _renamed_origins(data: Any, labels: Any, new: list[Any], kept: bool) -> dict[str, str | None]:
    """The band origins (:data:`cube_dimensions.BAND_ORIGINS`) after renaming ``labels``
    to ``new``: with ``source`` (``kept``) a renamed band keeps what it stood for (its
    common name and aliases, as Copernicus's ``Band`` keeps them), without it every band
    has only its new name."""
    before = band_origins(data)
    out: dict[str, str | None] = {}
    for old, name in zip(labels.tolist(), new, strict=True):
        if kept and str(old) == str(name):
            if str(old) in before:
                out[str(name)] = before[str(old)]
            continue
        out[str(name)] = before.get(str(old), str(old)) if kept else None
    return out
