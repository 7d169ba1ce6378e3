"""The floor: page every table's instances through the replicator's own HTTP path and do nothing with them.

Each table is paged with the product's pager (``iter_sync_pages``: the SDK client's ``post`` to
``/models/instances/sync`` with the body the replicator builds, JSON decoded by the SDK), from no cursor, with the
configured page size and as many tables at a time as the replicate run uses. What the replicate run adds on top
of this is the cost of turning pages into Delta commits.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cdf_replicator.pager import iter_sync_pages
from cdf_replicator.targets import Target


@dataclass(frozen=True)
class FetchResult:
    """Instances and pages one table's backfill returned, and the seconds it took."""

    label: str
    instances: int
    pages: int
    seconds: float


def fetch_table(client: Any, target: Target, page_limit: int) -> FetchResult:
    """Page one table's backfill to the end, counting items."""
    started = time.perf_counter()
    instances = pages = 0
    for page in iter_sync_pages(client, target.scope, None, page_limit, int(time.time() * 1000)):
        instances += len(page.items)
        pages += 1
    return FetchResult(target.label, instances, pages, time.perf_counter() - started)


def fetch_all(client: Any, targets: list[Target], page_limit: int, workers: int) -> list[FetchResult]:
    """Every table, ``workers`` at a time (as the replicate run schedules them)."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="raw-fetch") as pool:
        return list(pool.map(lambda target: fetch_table(client, target, page_limit), targets))
