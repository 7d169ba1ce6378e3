"""When a first load may append a batch instead of MERGEing it.

A table that was empty when its backfill started holds only the rows this run wrote. A batch none of whose keys
an earlier batch of the run had can therefore be appended: there is no row for a MERGE to update or delete, and
its tombstones concern instances the table never had (dropped, as MERGE would). Appending skips the join
against a target that grows with every batch, which is most of the cost of a first load.

A key can come twice in one backfill (an instance changed or deleted while the backfill ran comes again in the
change phase), so the guard remembers a 64-bit hash of every key it let through, 8 bytes per key, and sends a
batch that repeats any of them (or collides with one) to MERGE. Past ``max_keys`` it stops admitting batches
and forgets what it held: the rest of the run MERGEs, so driver memory stays bounded whatever the view's size.
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa

from cdf_replicator.columns import EXTERNAL_ID, SPACE

logger = logging.getLogger(__name__)

# 8 bytes a key: 80 MB of driver memory at most.
DEFAULT_MAX_KEYS = 10_000_000


def key_hashes(table: pa.Table) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the batch's (space, externalId) keys (Python's hash, this process only)."""
    spaces = table[SPACE].to_pylist()
    external_ids = table[EXTERNAL_ID].to_pylist()
    keys = zip(spaces, external_ids, strict=True)
    hashes = np.fromiter((hash(key) for key in keys), dtype=np.int64, count=table.num_rows)
    return np.unique(hashes)


class AppendGuard:
    """Tracks the keys a first load has written, to tell which batches may be appended."""

    def __init__(self, label: str, max_keys: int = DEFAULT_MAX_KEYS, armed: bool = True) -> None:
        self.label = label
        self.max_keys = max_keys
        # ``armed``: the table was empty when the load began (decided by the caller, possibly later).
        self.armed = armed
        self.active = True
        self._seen = np.empty(0, dtype=np.int64)

    def admits(self, batch: pa.Table) -> tuple[bool, np.ndarray]:
        """Whether ``batch`` may be appended, and its key hashes (for ``record``).

        False unless armed, once the guard is off, or when a key of the batch was written earlier in the run.
        """
        if not (self.armed and self.active):
            return False, self._seen[:0]
        hashes = key_hashes(batch)
        if self._seen.size == 0 or hashes.size == 0:
            return True, hashes
        positions = np.minimum(np.searchsorted(self._seen, hashes), self._seen.size - 1)
        repeated = int(np.count_nonzero(self._seen[positions] == hashes))
        if repeated:
            logger.info("%s: %d keys of this batch were written earlier in the run; merging it", self.label, repeated)
        return repeated == 0, hashes

    def record(self, hashes: np.ndarray) -> None:
        """Remember the keys of a committed batch (appended or merged); switch off past ``max_keys``."""
        if not (self.armed and self.active):
            return
        if self._seen.size + hashes.size > self.max_keys:
            logger.info("%s: more than %d keys in this load; later batches are merged", self.label, self.max_keys)
            self.active = False
            self._seen = np.empty(0, dtype=np.int64)
            return
        # Two sorted runs: the stable sort (timsort) merges them in linear time.
        merged = np.concatenate([self._seen, hashes])
        merged.sort(kind="stable")
        self._seen = merged

    @property
    def keys(self) -> int:
        return int(self._seen.size)
