"""How close two values must be to agree: ``|A - B| <= atol + rtol * |B|``, the same for
every band or per band.

``atol`` and ``rtol`` are numbers, or mappings from band name to number
(``atol={"B04": 1.0, "NDVI": 1e-6}``): a band a mapping names gets its own value, the
others the number given (or the default: ``atol`` 1e-6, ``rtol`` 0). A band is named as
either result names it (a raster's ``bands`` label or netCDF variable, a time series'
band column, a vector cube's value column); a name neither result has is an error, so a
misspelt band cannot leave its tolerance unused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hybrid.errors import UsageError

DEFAULT_ATOL = 1e-6
DEFAULT_RTOL = 0.0


@dataclass(frozen=True)
class Tolerance:
    """The tolerances of a comparison: ``atol``/``rtol`` for every band but those in
    ``bands``, (name, atol, rtol) each."""

    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    bands: tuple[tuple[str, float, float], ...] = ()

    @classmethod
    def of(
        cls,
        atol: Any = DEFAULT_ATOL,
        rtol: Any = DEFAULT_RTOL,
        *,
        default: tuple[float, float] = (DEFAULT_ATOL, DEFAULT_RTOL),
    ) -> Tolerance:
        """From numbers or band -> number mappings (see the module docstring); the bands
        a mapping leaves out get ``default``'s. A Tolerance given as ``atol`` is itself."""
        if isinstance(atol, Tolerance):
            return atol
        base_atol = _number("atol", atol if not isinstance(atol, Mapping) else default[0])
        base_rtol = _number("rtol", rtol if not isinstance(rtol, Mapping) else default[1])
        own_atol, own_rtol = _per_band("atol", atol), _per_band("rtol", rtol)
        names = list(dict.fromkeys([*own_atol, *own_rtol]))
        bands = tuple(
            (name, own_atol.get(name, base_atol), own_rtol.get(name, base_rtol)) for name in names
        )
        return cls(base_atol, base_rtol, bands)

    def at(self, *names: Any) -> tuple[float, float]:
        """(atol, rtol) of the band called any of ``names`` (A's and B's name for it;
        None where a result has no bands)."""
        for name, atol, rtol in self.bands:
            if name in {str(n) for n in names if n is not None}:
                return atol, rtol
        return self.atol, self.rtol

    def check_bands(self, *name_lists: Iterable[Any]) -> None:
        """A UsageError if a band given its own tolerance is in none of ``name_lists``."""
        known = {str(n) for names in name_lists for n in names}
        unknown = [name for name, _, _ in self.bands if name not in known]
        if unknown:
            have = ", ".join(sorted(known)) or "none: the results have no bands"
            raise UsageError(
                f"a tolerance is given for {', '.join(map(repr, unknown))}, which neither "
                f"result has (bands: {have}); name the bands as the results do"
            )

    def text(self) -> str:
        """``atol=1e-06, rtol=0`` and each band's own: ``; B04: atol=1, rtol=0``."""
        own = "".join(f"; {n}: atol={a:g}, rtol={r:g}" for n, a, r in self.bands)
        return f"atol={self.atol:g}, rtol={self.rtol:g}{own}"


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise UsageError(f"{name} must be a number or a mapping of band to number, not {value!r}")
    if value < 0:
        raise UsageError(f"tolerances must be >= 0 (got {name}={value:g})")
    return float(value)


def _per_band(name: str, value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(band): _number(f"{name}[{band!r}]", v) for band, v in value.items()}
