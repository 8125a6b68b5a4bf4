"""The load nodes of a graph with what the dry run inferred for them as arguments.

:func:`with_extents` fills the null ``spatial_extent``, ``temporal_extent`` and ``bands``
of each load_collection and load_stac with the extents
:mod:`hybrid.backends.local.extents` inferred (their own arguments always win), and
replaces ``properties`` by a marker: the load finds its conditions by its node id. A
property filter still reading a parameter without value (a stored UDP's graph run as it
is) is refused here, before any data is read.

A load followed by ``aggregate_spatial`` or ``filter_spatial`` reads their geometries'
whole area, also where they reach beyond its ``spatial_extent``: Copernicus's dry run
hands the geometries to the load (openeo-python-driver 9e5b49b2
``processgraph/load_params.py`` L228-230, ``aggregate_spatial_geometries``, else
``filter_spatial``'s) and the load reads the polygons, not the extent
(openeo-geopyspark-driver 9baf2e10 ``layercatalog.py`` L245-255, ``load_stac.py``
L723-733; openeo-geotrellis-extensions ``FileLayerProvider.scala``
``readKeysToRasterSources``: the read box is the polygons' extent), so a field half
outside the extent gets the statistic of all its pixels. Here the extent is widened to
take them in (the extent alone where it holds them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.backends.local.extents import UNKNOWN, LoadExtent, union_boxes
from hybrid.backends.local.property_filters import require_resolved
from hybrid.grid import BBox

#: the key under which a load_collection or load_stac call receives its node id (in
#: ``properties``)
LOAD_NODE = "hybrid:load_node"


def with_extents(graph: Mapping[str, Any], loads: Mapping[str, LoadExtent]) -> dict[str, Any]:
    """A copy of ``graph`` whose load_collection nodes carry the inferred extents where
    their own arguments were null (their own arguments always win)."""
    import copy

    out = copy.deepcopy(dict(graph))
    for node_id, load in loads.items():
        args = out[node_id].setdefault("arguments", {})
        if args.get("spatial_extent") is None and load.spatial not in (None, UNKNOWN):
            assert load.spatial is not None
            box = load.spatial
            args["spatial_extent"] = {
                "west": box.west, "south": box.south, "east": box.east, "north": box.north,
                "crs": box.crs,
            }  # fmt: skip
        if load.area is not None and args.get("spatial_extent") is not None:
            args["spatial_extent"] = _taking_in(node_id, args["spatial_extent"], load.area)
        if args.get("temporal_extent") is None and load.temporal is not None:
            args["temporal_extent"] = list(load.temporal)
        if not args.get("bands") and load.bands:
            args["bands"] = list(load.bands)
        if load.process == "load_stac":
            _stac_properties(args, node_id)
            continue
        # the load's own property conditions are in GraphFacts.load_conditions (checked
        # before, a parameter reference left for the call); the call finds them by its
        # node id
        require_resolved(node_id, args.get("properties"))
        args["properties"] = {LOAD_NODE: node_id}
    return out


def _taking_in(node_id: str, extent: Any, area: BBox) -> Any:
    """``extent``, or the lon/lat bbox of it and ``area`` when ``area`` reaches beyond it
    (an extent given by a parameter stays: it is not known here)."""
    from hybrid.backends.local.extent_literals import spatial_bbox
    from hybrid.grid import lonlat_bbox

    literal = spatial_bbox(node_id, "spatial_extent", extent)
    if literal is None or area is UNKNOWN:
        return extent
    own = lonlat_bbox(literal)
    union, _ = union_boxes([(own, "spatial_extent"), (lonlat_bbox(area), "geometries")])
    if union is None or union == own:  # the extent holds the geometries
        return extent
    return {"west": union.west, "south": union.south, "east": union.east,
            "north": union.north, "crs": union.crs}  # fmt: skip


def _stac_properties(args: dict[str, Any], node_id: str) -> None:
    """load_stac's ``properties``: the marker, with or without conditions, as the call
    finds by its node id its conditions (GraphFacts.stac_conditions; a static catalog
    refuses any, hybrid.backends.local.stac_items), its kernel buffer and its
    mask_scl_dilation (hybrid.backends.local.run); the parser would turn the condition
    graphs into callables."""
    if args.get("properties"):
        require_resolved(node_id, args["properties"], "load_stac")
    args["properties"] = {LOAD_NODE: node_id}


def load_node(properties: Any) -> str | None:
    """The id of the load node being called, from the mark :data:`LOAD_NODE` in its
    ``properties`` (None: a load the run did not mark)."""
    node = dict(getattr(properties, "root", properties) or {}).get(LOAD_NODE)
    return None if node is None else str(node)
