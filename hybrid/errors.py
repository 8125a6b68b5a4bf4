"""The project's one error hierarchy.

Every error a user can cause or meet derives from :class:`HybridError`. Each class
carries the openEO error code it maps to (``../shared/openeo-spec/api/errors.json``),
the HTTP status the emulator answers with, and the CLI exit code. Messages say what
failed, where, and how to fix it, in one line.
"""

from __future__ import annotations

from typing import ClassVar


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none): what
    a one-line error shows of a library's multi-line message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's whole message with its white space folded onto one line (its
    type's name when it has none), cut to ``limit`` characters with ``...``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HybridError(Exception):
    """Base class of every error raised on purpose by hybrid and its backends."""

    code: ClassVar[str] = "Internal"
    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, node: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: id of the process-graph node that failed, where known
        self.node = node

    def __str__(self) -> str:
        if self.node:
            return f"{self.message} (process node '{self.node}')"
        return self.message

    def to_openeo(self) -> dict[str, str]:
        """The error as the openEO API's error JSON body."""
        return {"code": self.code, "message": str(self)}


class UsageError(HybridError):
    """Bad input from the user: arguments, files, parameters."""

    code = "BadRequest"
    status = 400
    exit_code = 2


class ProcessParameterInvalid(UsageError):
    code = "ProcessParameterInvalid"


class ProcessGraphInvalid(UsageError):
    code = "ProcessGraphInvalid"


class ProcessUnsupported(UsageError):
    code = "ProcessUnsupported"


class ProcessParameterUnsupported(UsageError):
    """A parameter the process has but cannot honour here (openeo-python-driver
    ``ProcessParameterUnsupportedException``, 400)."""

    code = "ProcessParameterUnsupported"


class CollectionNotFound(UsageError):
    code = "CollectionNotFound"
    status = 404


class BandNotFound(ProcessParameterInvalid):
    """A requested band is not in the collection or the provider."""


class DivisionByZero(ProcessParameterInvalid):
    """divide or mod of two single numbers by zero: Copernicus computes them in Python
    (openeo_processes 0.0.4, whose ``x / y`` and ``x % y`` raise ZeroDivisionError), and
    the spec names this exception for environments without infinities."""

    code = "DivisionByZero"


class OverlapResolverMissing(ProcessParameterInvalid):
    """merge_cubes of overlapping cubes without an overlap_resolver."""

    code = "OverlapResolverMissing"


class NoDataAvailable(UsageError):
    """The search found no scene for the area and dates (openEO ``NoDataAvailable``)."""

    code = "NoDataAvailable"


class FormatUnsuitable(UsageError):
    code = "FormatUnsuitable"


class ExtentTooLarge(UsageError):
    """A cube of more pixels than Copernicus agrees to compute: its ``ExtentTooLarge``
    check, answered as ``ProcessGraphComplexity`` (openeo-geopyspark-driver
    ``layercatalog.py`` L111-121, ``is_layer_too_large`` L1429-1444)."""

    code = "ProcessGraphComplexity"


class UrlUnreadable(UsageError):
    """load_url could not fetch or parse its URL; Copernicus's code for it
    (openeo-python-driver datacube.py ``DriverVectorCube.from_fiona``, L458-461)."""

    code = "load_url_reading_error"


class InvalidGeometry(UsageError):
    """A UDF answered geometries that are not valid (openeo-python-driver ``run_udf``,
    ``process_implementations/cubes.py`` L537-543: 400 ``InvalidGeometry``)."""

    code = "InvalidGeometry"


class PolygonUnrasterizable(UsageError):
    """geotrellis's scanline meets an odd number of crossings on a row of pixel centres
    and fails (locationtech/geotrellis v3.7.1 PolygonRasterizer.scala L450-459); on
    Copernicus the job fails with the Spark exception (geopyspark-driver 9baf2e10
    backend.py L1097-1098, L1159; openeo-python-driver views.py L331-336: 400 BadRequest
    for an invalid polygon, 500 Internal else). Here 400 BadRequest both: it is the
    input that cannot be drawn."""


class InvalidRuntime(ProcessParameterInvalid):
    """run_udf names a runtime this backend does not offer (run_udf ``InvalidRuntime``)."""

    code = "InvalidRuntime"


class InvalidVersion(ProcessParameterInvalid):
    """run_udf names a runtime version this backend does not offer (``InvalidVersion``)."""

    code = "InvalidVersion"


class UdfError(UsageError):
    """A UDF failed: its own exception, a time or memory limit, or an unusable result.

    Copernicus answers these with its generic 500 ``Internal`` (it "gives the user the
    benefit of doubt"); the emulator answers 400 ``BadRequest`` with the same message,
    since the cause is the user's code.
    """


class UdfUnavailable(HybridError):
    """UDFs cannot run here: the kernel cannot isolate them (no Landlock)."""

    code = "FeatureUnsupported"
    status = 501


class DataSourceError(HybridError):
    """A STAC source or a COG could not be read (unreachable, corrupt, missing asset)."""

    code = "Internal"
    status = 502
    exit_code = 2


class RemoteBackendError(HybridError):
    """A remote openEO backend refused or failed a request or a job."""

    code = "Internal"
    status = 502
    exit_code = 1


class RemoteRequestRefused(RemoteBackendError):
    """The remote backend refused a request as wrong (a 4xx: the graph, a job id): a
    usage error, as the same graph is locally."""

    exit_code = 2


class BackendUnreachable(RemoteBackendError):
    """A remote backend cannot be reached at all (nothing was submitted): exit code 2."""

    exit_code = 2


class ClusterError(HybridError):
    """A Dask cluster cannot do the work: unreachable, no workers, workers that cannot
    import the project, or lost mid-run. One line naming the cause; exit code 2."""

    code = "Internal"
    status = 503
    exit_code = 2


class RunCanceled(HybridError):
    """The run was stopped from outside (a canceled batch job); nothing was kept."""

    code = "Internal"
    status = 409
    exit_code = 130


class AuthenticationError(HybridError):
    code = "AuthenticationRequired"
    status = 401
    exit_code = 2


class NotEquivalent(HybridError):
    """Two results differ beyond tolerance (``hybrid compare`` exit 1)."""

    exit_code = 1


class HybridWarning(UserWarning):
    """Something a user should know that does not stop the run (one line; the CLI prints
    it as ``hybrid: warning: ...``)."""
