"""A batch job's options as Copernicus reads them when the job is created and checks
them when it starts.

Copernicus keeps a job's options (openeo-python-driver 9e5b49b2 ``views.py``
``_extract_job_options`` L645-658, used by ``create_job`` L920-921): the body's
``job_options`` as given, else every top-level property that is not one of the API's own
(so ``{"process": ..., "executor-cores": 8}`` has the option ``executor-cores``). When the
job starts (``POST /jobs/{id}/results``), its Kubernetes deployment reads them into
``K8SOptions`` and validates them (openeo-geopyspark-driver 9baf2e10 ``backend.py``
L1962-1967, L2182; ``job_options.py``), answering that request with a 400:

- more than 4 executor or driver cores (``K8SOptions.validate`` L426-436);
- a ``stac-version`` other than "1.0" or "1.1": ``InvalidStacVersion`` (L178-186);
- an ``openeo-jar-path`` outside VITO's artifactory (L207-211);
- a ``soft-errors`` other than true, false, "true", "false", null or a number from 0 to 1
  (``soft_errors_arg`` L226-243, read at L2182).

Not checked here: the memory options against the instance's maximum (a deployment
setting, ``max_executor_or_driver_memory``, whose value on Copernicus is not published)
and ``credit-plans`` (checked by a deployment-specific credit service). Nor a
``log_level`` or ``logging-threshold`` option: its ``validate`` refuses a log level
outside debug, info, warn(ing) and error (L188-193), but ``GpsBatchJobs.create_job``
has already replaced the option ``log_level`` with the job's own ``log_level``
(backend.py L1577-1584), which the python-driver always sets, checked, when the job is
created (views.py L931), and ``from_dict`` reads ``logging-threshold`` only without a
``log_level`` (L257-258): neither option can make a start fail there. A value of the
wrong type that makes Copernicus fail with a 500 (``executor-cores: "many"``) is a 400
here. A job whose options are invalid stays ``created``, as there. Options it does not
know are ignored, as there (``JobOptions.from_dict`` L246-255 reads only its own fields).

Of the options that change what a graph computes (those the batch job hands to the
evaluation, ``deploy/batch_job.py`` L348-356), ``allow_empty_cubes`` is honoured
(:func:`with_result_options`), and so is ``do_extent_check``: false turns off
Copernicus's size check of the job's loads (:func:`hybrid.limits.extent_check_wanted`,
:mod:`hybrid.backends.local.load_size`); ``data_mask_optimization`` and ``node_caching``
change how, not what, and ``stac_api_filter_by_geometry`` and ``soft-errors`` are not
followed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.server.errors import BadRequest, InvalidStacVersion, JobOptionRefused

#: the top-level properties of ``POST /jobs`` that are not job options (views.py L921)
_NOT_OPTIONS = ("process", "process_graph", "title", "description", "plan", "budget", "log_level")
#: the most cores an executor or the driver may ask for (K8SOptions.validate L427)
MAX_CORES = 4
_STAC_VERSIONS = ("1.0", "1.1")
_JAR_PREFIXES = (
    "https://artifactory.vgt.vito.be/artifactory/libs-release-public/org/openeo/geotrellis-extensions",
    "https://artifactory.vgt.vito.be/artifactory/libs-snapshot-public/org/openeo/geotrellis-extensions/",
)


#: job options whose URLs Copernicus fetches for a job's UDFs (geopyspark-driver
#: ``job_options.py`` L108-115, passed to the job's executors at ``backend.py`` L2200-2201)
_UDF_DEPENDENCIES = ("udf-dependency-archives", "udf-dependency-files")


def job_options(body: Mapping[str, Any]) -> Any:
    """The options of the job ``body`` creates: its ``job_options`` as given, else its
    top-level properties that are not the API's own; None when there are none."""
    if "job_options" in body:
        return body["job_options"]
    return {k: v for k, v in body.items() if k not in _NOT_OPTIONS} or None


def with_result_options(graph: Any, options: Any) -> Any:
    """``graph`` with the job ``options`` that change its result applied: its loads
    (load_collection, load_stac) get the ``allow_empty_cubes`` option as their
    ``featureflags`` ``allow_empty_cube`` where they do not set it themselves, as
    Copernicus reads ``feature_flags.get("allow_empty_cube", env.get(ALLOW_EMPTY_CUBES,
    False))`` (``load_stac.py`` L212, ``datacube_parameters.py`` L38-40)."""
    import copy

    if not isinstance(options, Mapping) or "allow_empty_cubes" not in options:
        return graph
    out = copy.deepcopy(graph)
    for node in _nodes(out):
        if node.get("process_id") in ("load_collection", "load_stac"):
            arguments = node.setdefault("arguments", {})
            flags = arguments.get("featureflags")
            flags = dict(flags) if isinstance(flags, Mapping) else {}
            flags.setdefault("allow_empty_cube", options["allow_empty_cubes"])
            arguments["featureflags"] = flags
    return out


def _nodes(value: Any) -> list[dict[str, Any]]:
    """The process nodes in ``value`` (a flat graph as JSON gives it), callbacks included."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if isinstance(value.get("process_id"), str):
            found.append(value)
        for item in value.values():
            found += _nodes(item)
    elif isinstance(value, list):
        for item in value:
            found += _nodes(item)
    return found


def check_job_options(options: Any) -> None:
    """Refuse the options a starting job has where Copernicus refuses them (see the
    module docstring), in the order it checks them."""
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise BadRequest(
            f"job_options must be an object of option names and values, not {repr(options)[:40]}."
        )
    for role in ("executor", "driver"):
        _check_cores(role, options.get(f"{role}-cores"))
    _check_stac_version(options.get("stac-version", "1.0"))
    _check_jar_path(options.get("openeo-jar-path"))
    _check_soft_errors(options.get("soft-errors"))


def _check_cores(role: str, value: Any) -> None:
    if value is None:
        return
    try:
        cores = int(value)
    except (TypeError, ValueError):
        raise BadRequest(
            f"Job option {role}-cores must be a whole number, not {value!r:.40}."
        ) from None
    if cores > MAX_CORES:
        raise JobOptionRefused(
            f"Requested too many {role} cores: {value} , the max for this instance is: {MAX_CORES}"
        )


def _check_stac_version(value: Any) -> None:
    if value not in _STAC_VERSIONS:
        raise InvalidStacVersion(
            f"Invalid stac-version in batch job options {value!r}. Should be one of "
            f"{sorted(_STAC_VERSIONS)}."
        )


def _check_jar_path(value: Any) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith(_JAR_PREFIXES)):
        raise JobOptionRefused(f"Requested invalid openeo jar path {str(value)[:200]}")


def _check_soft_errors(value: Any) -> None:
    if value is None or value in ("true", "false") or isinstance(value, bool):
        return
    if isinstance(value, int | float) and 0.0 <= value <= 1.0:
        return
    raise JobOptionRefused(
        f"invalid value {str(value)[:40]} for job_option soft-errors; supported values "
        "include false/true and values in the interval [0.0, 1.0]"
    )


def unfetched_dependencies(options: Any) -> list[str]:
    """A warning per job option naming UDF dependencies this backend does not fetch (a
    UDF importing from them fails with ModuleNotFoundError, which says nothing of why)."""
    if not isinstance(options, Mapping):
        return []
    return [
        f"Job option {name}: this backend does not fetch UDF dependencies; a UDF "
        "importing from them fails here. Install those packages (or models) into the "
        "environment that runs hybrid serve instead."
        for name in _UDF_DEPENDENCIES
        if options.get(name)
    ]


def uninstalled_udf_dependencies(graph: Any) -> list[str]:
    """A warning naming the packages the job's Python UDFs declare in their inline script
    metadata (``# /// script`` ``dependencies``, as openeo-gfmap's feature extractors
    write it) that are not installed here: Copernicus pip-installs them for a batch job
    (geopyspark-driver ``deploy/batch_job.py`` L1256, ``udf/__init__.py`` L151-163),
    this backend does not, and a UDF importing one fails with ModuleNotFoundError."""
    import re
    from importlib.metadata import PackageNotFoundError, version

    from openeo.udf.run_code import extract_udf_dependencies

    missing: list[str] = []
    for code in _python_udfs(graph):
        for declared in extract_udf_dependencies(code) or []:
            name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", declared)  # PEP 508 name
            try:
                version(name.group(1) if name else declared)
            except (PackageNotFoundError, ValueError):
                missing += [] if declared in missing else [declared]
    if not missing:
        return []
    return [
        f"UDF dependencies {', '.join(missing)}: declared in the UDF's script metadata, "
        "which Copernicus installs for a batch job; this backend does not, so a UDF "
        "importing them fails here. Install them into the environment that runs hybrid "
        "serve instead."
    ]


def _python_udfs(value: Any) -> list[str]:
    """The code of the Python run_udf nodes in ``value``, callbacks included."""
    found: list[str] = []
    for node in _nodes(value):
        arguments = node.get("arguments")
        if node["process_id"] == "run_udf" and isinstance(arguments, Mapping):
            runtime, code = arguments.get("runtime"), arguments.get("udf")
            if str(runtime).lower().startswith("python") and isinstance(code, str):
                found.append(code)
    return found
