"""One execution of a graph: the load_collection and save_result it needs, with state
(the output grid to crop back to, the files written, provenance)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.backends.local.graphcheck import GraphFacts
from hybrid.backends.local.load_arguments import load_node
from hybrid.backends.local.load_extents import (
    extent_geometry,
    load_bbox,
    load_interval,
    parse_bbox,
    resolved_interval,
)
from hybrid.backends.local.processes.flow import NULL_RESULT
from hybrid.backends.local.result_files import add_files
from hybrid.backends.local.result_raster import result_raster
from hybrid.backends.local.stac_searches import StacSearches
from hybrid.errors import ProcessParameterInvalid
from hybrid.grid import BBox, Grid
from hybrid.io.registry import require_format

if TYPE_CHECKING:
    from hybrid.backends.local.loader import LoadRequest


def _envelope(a: Grid, b: Grid) -> Grid:
    """The grid covering two grids of one CRS (the result is cropped back to it)."""
    if a.epsg != b.epsg:
        return a
    return Grid(a.epsg, min(a.xmin, b.xmin), min(a.ymin, b.ymin),
                max(a.xmax, b.xmax), max(a.ymax, b.ymax), a.resolution)  # fmt: skip


@dataclass
class Run:
    settings: Any
    facts: GraphFacts
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    #: how many save_result ran (one may write no file: a GTiff of a cube without dates)
    saves: int = 0
    #: how many discard_result ran (a graph that ends in one writes nothing)
    discards: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)
    #: the STAC asset fields of written files that the files do not say
    assets: dict[Path, dict[str, Any]] = field(default_factory=dict)
    grid: Grid | None = None
    #: the spatial extents of the loads, to which a reprojected result is cropped
    extents: list[BBox] = field(default_factory=list)
    #: the load_stac items searched for this run (stac_load.mark_cell_types, then the
    #: load: one search each)
    stac_searches: StacSearches = field(default_factory=StacSearches)

    def load_collection(
        self,
        id: str,
        spatial_extent: Any = None,
        temporal_extent: Any = None,
        bands: list[str] | None = None,
        properties: Any = None,
        featureflags: Any = None,
        **_ignored: Any,
    ) -> Any:
        """SENTINEL2_L2A as a cube (hybrid.backends.local.loader); of its
        ``featureflags`` only ``allow_empty_cube`` is read, as by load_stac (Copernicus
        loads the collection through its load_stac: load_stac.py L212)."""
        from hybrid.backends.local.loader import load_s2
        from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT
        from hybrid.progress import step

        request, asked = self._load_request(spatial_extent, temporal_extent, bands, properties)
        request = replace(request, allow_empty=allows_empty(featureflags))
        with step("searching and loading scenes", enabled=self.settings.progress):
            loaded = load_s2(self.settings.stac, request)
        self._add_grid(loaded.grid)
        self.extents.append(request.bbox)
        scenes = [f"{d.date.isoformat()}:{'+'.join(i.id for i in d.items)}" for d in loaded.scenes]
        source = str(self.settings.stac or "embedded sample")
        self.provenance.update({"stac_source": source, "scenes": scenes, "epsg": loaded.grid.epsg})
        # the bands keep the names asked for (``red`` reads B04 and stays ``red``), as
        # Copernicus renames them back after resolving them (layercatalog.py L188-196)
        cube = loaded.cube.assign_coords(bands=list(asked))
        # aggregate_temporal_period builds its periods from the load's extent (dekads)
        cube.attrs[TEMPORAL_EXTENT] = (request.start, request.end)
        return self._laid_out(cube, loaded.grid, self._buffer(properties), properties)

    def _load_request(
        self, spatial_extent: Any, temporal_extent: Any, bands: Any, properties: Any
    ) -> tuple[LoadRequest, tuple[str, ...]]:
        """The loader's request of a load_collection call, and the band names asked for."""
        from hybrid.backends.local.graphcheck import lone_cloud_limit
        from hybrid.backends.local.loader import LoadRequest
        from hybrid.collection import band_names

        start, end = load_interval(temporal_extent)
        bbox, epsg = load_bbox(spatial_extent), self._epsg()
        _warn_if_mostly_empty(spatial_extent, bbox, epsg)
        conditions = self._conditions(properties)
        cloud = lone_cloud_limit(conditions)
        # no bands: all of the collection's, in its order (with the angle bands), as
        # Copernicus takes metadata.band_names (geopyspark-driver layercatalog.py L195-200)
        asked = tuple(str(b) for b in bands) if bands else tuple(band_names())
        request = LoadRequest(
            bbox=bbox,
            epsg=epsg,
            start=start,
            end=end,
            bands=tuple(_collection_name(b) for b in asked),
            max_cloud_cover=cloud,
            buffer=max(
                self._buffer(properties),
                self.facts.margin,
                self._scl_read(properties, bbox, epsg),
            ),
            # a lone ``eo:cloud_cover <= x`` travels as max_cloud_cover
            conditions=() if cloud is not None else conditions,
            search=self._search_box(properties),
        )
        return request, asked

    def load_stac(
        self,
        url: Any,
        spatial_extent: Any = None,
        temporal_extent: Any = None,
        bands: list[str] | None = None,
        properties: Any = None,
        featureflags: Any = None,
        load_cell_type: Any = None,
        **_ignored: Any,
    ) -> Any:
        """A STAC document as a cube (hybrid.backends.local.stac_load); of its
        ``featureflags`` only ``allow_empty_cube`` is read; ``load_cell_type``: the
        cell type :func:`~hybrid.backends.local.stac_load.mark_cell_types` found for it
        before the run, which the run's cell types were worked out with."""
        from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT
        from hybrid.backends.local.stac_load import load_stac, stac_interval

        interval = stac_interval(temporal_extent)
        start, end = resolved_interval(interval)  # open bounds filled for the cube's extent
        bbox = None if spatial_extent is None else parse_bbox(spatial_extent)
        buffer = self._buffer(properties)  # its own, as load_collection's
        loaded = load_stac(
            url,
            bbox=bbox,
            interval=interval,
            bands=list(bands) if bands else None,
            properties=self._conditions(properties, self.facts.stac_conditions),
            buffer=max(buffer, self.facts.margin, self._scl_read(properties, bbox)),
            allow_empty=allows_empty(featureflags),
            cell_type=tuple(load_cell_type) if isinstance(load_cell_type, list) else None,
            searches=self.stac_searches,
        )
        self._add_grid(loaded.grid)
        self.extents += [] if bbox is None else [bbox]
        self.provenance.update({"stac_source": str(url), "items": list(loaded.items)})
        self.provenance.setdefault("epsg", loaded.grid.epsg)
        # an open bound: the items' (load_stac.py L584-593), else 2000-01-01 / now
        loaded.cube.attrs[TEMPORAL_EXTENT] = (
            interval[0] or loaded.span[0] or start,
            interval[1] or loaded.span[1] or end,
        )
        return self._laid_out(loaded.cube, loaded.grid, buffer, properties)

    def _add_grid(self, grid: Grid) -> None:
        """The run's grid widened to cover a load's ``grid`` (the first load's: it)."""
        self.grid = grid if self.grid is None else _envelope(self.grid, grid)

    def _laid_out(self, cube: Any, grid: Grid, buffer: int, properties: Any) -> Any:
        """``cube`` with the load layout resample_spatial keeps (the extent with the load's
        kernel ``buffer``), masked by a mask_scl_dilation as Copernicus loads it."""
        from hybrid.backends.local.processes.resampling import LAYOUT
        from hybrid.backends.local.processes.scl_dilation import masked_while_loading

        cube.attrs[LAYOUT] = _layout(grid.buffered(buffer))
        mask = self.facts.scl_masks.get(load_node(properties) or "")
        return cube if mask is None else masked_while_loading(cube, mask)

    def _scl_read(self, properties: Any, bbox: Any, epsg: int | None = None) -> int:
        """The pixels that load reads for its mask_scl_dilation (scl_keys.read_margin)."""
        from hybrid.backends.local.processes.scl_keys import read_margin

        mask = self.facts.scl_masks.get(load_node(properties) or "")
        return read_margin(mask, bbox, epsg, self._buffer(properties))

    def _search_box(self, properties: Any) -> Any:
        """The box the load node being called searches items in when only geometries use
        it (extents.LoadExtent.search), else None: its extent's."""
        from hybrid.backends.local.extents import UNKNOWN

        load = self._load(properties)
        search = None if load is None else load.search
        return None if search is UNKNOWN else search

    def _load(self, properties: Any) -> Any:
        """What the load node being called loads (extents.LoadExtent), None if unknown."""
        return self.facts.loads.get(load_node(properties) or "")

    def _buffer(self, properties: Any) -> int:
        """The kernel buffer of the load node being called (the first kernel's on each of
        its paths, also in the pixels of a resample handed to it: extents.LoadExtent),
        else the run's (the largest of its loads')."""
        load = self._load(properties)
        return self.facts.buffer if load is None else max(load.buffer, load.wide)

    def _conditions(self, properties: Any, per_node: Any = None) -> tuple[Any, ...]:
        """The property conditions of the load node being called (``per_node``: of the
        load_stac nodes, else of the load_collection nodes)."""
        node = load_node(properties)
        if per_node is not None:
            return tuple(per_node.get(str(node), ()))
        if node is None:
            return self.facts.conditions
        return tuple(self.facts.load_conditions.get(node, ()))

    def save_result(self, data: Any, format: str, options: Any = None) -> Any:
        """Write ``data``; its value is ``data``, as Copernicus's save_result gives (its
        ``ENV_SAVE_RESULT`` is always set: python-driver process_implementations/io.py
        L171-187, processgraph/evaluator.py L113-114), so a save_result of a save_result
        (the client's ``create_job`` on a user-defined process that saves) writes twice."""
        from hybrid.backends.local.samples import sample_request, write_samples
        from hybrid.io.cube import CELL_TYPE
        from hybrid.io.format import filename_prefix
        from hybrid.io.provenance import provenance_attributes
        from hybrid.io.registry import kind_of, write_result
        from hybrid.io.vector_assets import written_asset_fields

        if data is NULL_RESULT:  # a SaveResult there: with_format, no file (io.py L176-180)
            return data
        fmt = require_format(format)
        _refuse_models(data)
        given, kind = data, kind_of(data)
        options = dict(getattr(options, "root", options) or {})
        samples = sample_request(options)  # a batch job's sample_by_feature
        # netCDF and GTiff are written block by block as the blocks are computed
        # (bounded memory); the other formats get the computed cube
        streams = kind == "raster" and fmt.name in ("netCDF", "GTiff") and samples is None
        cell_type = options.pop(CELL_TYPE, None)  # hybrid.backends.local.cell_types
        if kind == "raster":
            data = result_raster(data, self.grid, self.extents, self.settings, lazy=streams)
            if cell_type is not None:
                data = data.assign_attrs({CELL_TYPE: tuple(cell_type)})
        attrs = provenance_attributes(self.provenance)
        from hybrid.backends.local.compute import store
        from hybrid.io.streaming import block_store

        def write(cube: Any, folder: Path) -> list[Path]:
            return write_result(cube, fmt, folder, attrs=attrs, options=options)

        with block_store(functools.partial(store, settings=self.settings)):
            if samples is not None and kind == "raster":
                prefix = filename_prefix(options)
                written = write_samples(data, samples, self.out_dir, write, prefix)
            else:
                written = write(data, self.out_dir)
        self.assets.update(written_asset_fields(data, kind, fmt.name, written, options))
        add_files(self.files, written)
        self.saves += 1
        return given

    def save_ml_model(self, data: Any, options: Any = None) -> bool:
        """The model as Copernicus saves it: ``randomforest.model.tar.gz`` and its STAC
        Item ``ml_model_metadata.json`` (:mod:`hybrid.backends.local.forest`)."""
        import json

        from hybrid.atomic import atomic_path
        from hybrid.backends.local.forest.model import Forest
        from hybrid.backends.local.forest.spark_layout import pack
        from hybrid.io.model_item import ARCHIVE, METADATA_FILE, model_item

        if not isinstance(data, Forest):
            raise ProcessParameterInvalid(
                "save_ml_model: data must be a model (of fit_class_random_forest or "
                f"load_ml_model), got {type(data).__name__}"
            )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        archive, item = self.out_dir / ARCHIVE, self.out_dir / METADATA_FILE
        with atomic_path(archive) as partial:
            pack(data, partial)
        with atomic_path(item) as partial:
            partial.write_text(json.dumps(model_item(ARCHIVE), indent=2))
        self.files.extend([archive, item])
        self.saves += 1
        return True

    def discard_result(self, data: Any = None) -> Any:
        """Nothing is written (:mod:`hybrid.backends.local.processes.flow`)."""
        self.discards += 1
        return NULL_RESULT

    def _epsg(self) -> int | None:
        """One UTM zone for every load of the run: that of all their extents together
        (Copernicus merges the loads' extents into one global extent,
        openeogeotrellis/_backend/post_dry_run.py:449-486)."""
        from hybrid.backends.local.extents import UNKNOWN
        from hybrid.grid import bounds_union, lonlat_bbox, target_epsg

        boxes = [
            lonlat_bbox(load.spatial)
            for load in self.facts.loads.values()
            if load.spatial is not None and load.spatial is not UNKNOWN
        ]
        if len(boxes) < 2:
            return None
        return target_epsg(BBox(*bounds_union((b.west, b.south, b.east, b.north) for b in boxes)))


def _warn_if_mostly_empty(spatial_extent: Any, bbox: BBox, epsg: int | None) -> None:
    """A warning when a geometry ``spatial_extent`` covers little of its output grid."""
    geometry = extent_geometry(spatial_extent)
    if geometry is not None:
        from hybrid.aoi import warn_if_mostly_empty
        from hybrid.grid import output_grid

        grid = output_grid(bbox, epsg=epsg)
        warn_if_mostly_empty(geometry, grid, source="spatial_extent")


def _layout(grid: Grid) -> tuple[float, float, float, int, int]:
    """What resample_spatial needs of the Copernicus load layout of ``grid``."""
    return (grid.xmin, grid.ymax, grid.resolution, grid.width, grid.height)


def _refuse_models(data: Any) -> None:
    """A model is no result save_result can write (Copernicus has no writer for it)."""
    from hybrid.backends.local.forest.model import Forest

    if isinstance(data, Forest):
        raise ProcessParameterInvalid(
            "save_result: the data is a model (fit_class_random_forest, load_ml_model); "
            "save it with save_ml_model in a batch job (create_job or execute_batch)"
        )


def _collection_name(band: str) -> str:
    """The collection band a load's band name reads (a common name or an alias resolved,
    :func:`hybrid.collection.collection_band`); an unknown name as it is, for the
    loader's message."""
    from hybrid.collection import collection_band

    found = collection_band(band)
    return str(found["name"]) if found else band


def allows_empty(featureflags: Any) -> bool:
    """Whether a load's ``featureflags`` let it find nothing: ``allow_empty_cube``, read
    as Python reads it (load_stac.py L212, L268: ``if not allow_empty_cubes``)."""
    flags = getattr(featureflags, "root", featureflags)
    return isinstance(flags, dict) and bool(flags.get("allow_empty_cube"))
