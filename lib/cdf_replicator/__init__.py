"""cdf-replicator: CDF data-modeling instances into Delta Lake, and Parquet snapshots for BI."""

__version__ = "0.1.0"
