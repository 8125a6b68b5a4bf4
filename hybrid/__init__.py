"""hybrid: one openEO process graph for Sentinel-2 NDVI, run anywhere, results compared."""
