"""Independent reference implementation of the NDVI workflow, Copernicus semantics.

Shares no code with ``hybrid`` or ``backends``: the tests compare the engine against it.
"""

from __future__ import annotations

from tests.reference.workflow import ReferenceResult, reference_ndvi

__all__ = ["ReferenceResult", "reference_ndvi"]
