"""Process implementations that replace openeo-processes-dask's where it differs
from the Copernicus backend (../shared/FIELD_NOTES.md sections 1-2)."""
