"""A saved model's STAC Item, as Copernicus writes it next to the model's archive
(``ml_model_metadata.json``) and reads it back in ``load_ml_model``.

Writing: openeo-geopyspark-driver 9baf2e10 ``ml/geopysparkrandomforestmodel.py``
``get_model_metadata`` L25-96; the results Collection links it as an Item
(openeo-python-driver 9e5b49b2 ``views.py`` L1270-1276, L1309-1324) and answers it with
its assets' hrefs made download URLs (``_download_ml_model_metadata`` L1781-1807).
Reading: ``ml/modelloader.py`` ``_extract_model_info`` L76-118: the architecture must be
given and known, and exactly one asset has the role ``ml-model:checkpoint``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from hybrid.errors import ProcessParameterInvalid

#: the architecture of the models Copernicus trains (``ModelArchitecture.RANDOM_FOREST``)
ARCHITECTURE = "random-forest"
CHECKPOINT = "ml-model:checkpoint"
#: the class Copernicus saves and loads (Spark MLlib)
MODEL_CLASS = "org.apache.spark.mllib.tree.model.RandomForestModel"
#: the model folder's name, and the archive's (``<FOLDER>.tar.gz``), next to the Item
FOLDER = "randomforest.model"
ARCHIVE = f"{FOLDER}.tar.gz"


def checkpoint_href(item: Any, url: str) -> str:
    """The href of the model archive of the model Item ``item`` (read from ``url``)."""
    properties = item.get("properties") if isinstance(item, dict) else None
    architecture = (properties or {}).get("ml-model:architecture")
    if not architecture:
        raise ProcessParameterInvalid(
            f"load_ml_model: {url} does not specify a model architecture under "
            "properties.ml-model:architecture."
        )
    if architecture != ARCHITECTURE:
        raise ProcessParameterInvalid(
            f"load_ml_model: unsupported model architecture {architecture!r} in {url}; "
            f"only {ARCHITECTURE!r} models can be loaded here"
        )
    assets = item.get("assets") or {}
    checkpoints = [a for a in assets.values() if CHECKPOINT in (a.get("roles") or [])]
    if len(checkpoints) > 1:
        raise ProcessParameterInvalid(
            f"load_ml_model: {url} contains multiple checkpoints which is not yet supported."
        )
    if not checkpoints or not checkpoints[0].get("href"):
        raise ProcessParameterInvalid(
            f"load_ml_model: {url} does not contain a link to the ml model in its assets section."
        )
    return urljoin(url, str(checkpoints[0]["href"]))


#: the file name of a saved model's Item (openeo-python-driver ``DriverMlModel``)
METADATA_FILE = "ml_model_metadata.json"
ML_MODEL_EXTENSION = "https://stac-extensions.github.io/ml-model/v1.0.0/schema.json"


def model_item(archive: str) -> dict[str, Any]:
    """The STAC Item of a saved model whose archive is the file ``archive`` next to it,
    as Copernicus writes it (module docstring)."""
    import uuid

    world = [-179.999, -89.999, 179.999, 89.999]
    west, south, east, north = world
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "stac_version": "1.0.0",
        "stac_extensions": [ML_MODEL_EXTENSION],
        "type": "Feature",
        "id": f"rf-{uuid.uuid4().hex}",
        "collection": "collection-id",
        "bbox": world,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "datetime": None,
            "start_datetime": "1970-01-01T00:00:00Z",
            "end_datetime": "9999-12-31T23:59:59Z",
            "ml-model:type": "ml-model",
            "ml-model:learning_approach": "supervised",
            "ml-model:prediction_type": "classification",
            "ml-model:architecture": ARCHITECTURE,
            "ml-model:training-processor-type": "cpu",
            "ml-model:training-os": "linux",
        },
        "links": [],
        "assets": {
            "model": {
                "href": archive,
                "type": "application/octet-stream",
                "title": MODEL_CLASS,
                "roles": [CHECKPOINT],
            }
        },
    }
