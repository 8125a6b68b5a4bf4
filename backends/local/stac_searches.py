"""The STAC document and items of each load_stac of one run, read and searched once.

The cell type of a load_stac's cube is decided before the run, from its first item
(:func:`hybrid.backends.local.stac_load.mark_cell_types`), and the run loads the same
items (:func:`hybrid.backends.local.stac_load.load_stac`): both take them from the run's
:class:`StacSearches`, so a STAC API gets one search (and its pages) per load_stac, as
Copernicus's load_stac searches once and hands the items it found to the JVM
(openeo-geopyspark-driver 9baf2e10 ``load_stac.py`` L249-263, L277, L549), which types
the cube by the first of them (openeo-geotrellis-extensions 2a25a26e
``FileLayerProvider.scala`` ``determineCelltype`` L997-1005, L1031).

One :class:`StacSearches` belongs to one run (:class:`hybrid.backends.local.run.Run`):
concurrent jobs of the emulator each have their own. What a search warned about is
given again to whoever takes its items (the mark swallows warnings, the run does not),
and a search that failed fails again, unrepeated, for the run, which says why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from hybrid.run_warnings import log_entry, warn, warnings_to


@dataclass(frozen=True)
class Found:
    """What one search gave: the STAC document, its items meeting the extent and the
    property conditions, and the warnings given meanwhile (or the error it raised)."""

    stac: Any = None
    items: tuple[Any, ...] = ()
    warnings: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: Exception | None = None


class StacSearches:
    """The items of the run's load_stac calls, by (url, extent, property conditions)."""

    def __init__(self) -> None:
        self._found: dict[Any, Found] = {}
        self._lock = threading.Lock()

    def found(self, url: Any, extent: Any, conditions: tuple[Any, ...]) -> tuple[Any, list[Any]]:
        """The STAC document ``url`` names and its items meeting ``extent`` (a
        :class:`~hybrid.backends.local.stac_items.Extent`) and ``conditions``, searched
        the first time they are asked for; its warnings given again, its error raised."""
        key: Any = (str(url), extent, tuple(conditions))
        try:
            hash(key)
        except TypeError:  # a condition value that cannot be a key: searched each time
            key = None
        with self._lock:
            hit = None if key is None else self._found.get(key)
        if hit is None:
            hit = _search(url, extent, tuple(conditions))
            if key is not None:
                with self._lock:
                    hit = self._found.setdefault(key, hit)
        for message, entry in hit.warnings:
            if not entry or not log_entry(message, **entry):
                warn(message)
        if hit.error is not None:
            raise hit.error
        return hit.stac, list(hit.items)


def _search(url: Any, extent: Any, conditions: tuple[Any, ...]) -> Found:
    """Read ``url`` and search its items, recording the warnings and any error."""
    from hybrid.backends.local.stac_documents import read_stac
    from hybrid.backends.local.stac_items import stac_items
    from hybrid.backends.local.stac_source import stac_location

    given: list[tuple[str, dict[str, Any]]] = []
    with warnings_to(lambda message, **entry: given.append((str(message), entry))):
        try:
            stac = read_stac(stac_location(url))
            items = stac_items(stac, extent, conditions)
        except Exception as exc:  # raised again for each caller (the run says why)
            return Found(warnings=tuple(given), error=exc)
    return Found(stac, tuple(items), tuple(given))
