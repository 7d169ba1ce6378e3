"""The CDF sync adapter: pages of raw instance JSON for one scope, with cursor expiry as one explicit branch."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from cognite.client.exceptions import CogniteAPIError

from cdf_replicator.cdf import project_path
from cdf_replicator.errors import CdfAccessError, CursorExpiredError
from cdf_replicator.sync_query import RESULT_SET, SyncScope, build_sync_body

logger = logging.getLogger(__name__)

SYNC_PATH = "/models/instances/sync"
_EXPIRED_PREFIX = "Cursor has expired"
_INVALID = "Invalid cursor provided."


@dataclass(frozen=True)
class Page:
    """One sync answer: the raw items and the cursor that continues after them."""

    items: list[dict[str, Any]]
    cursor: str


def is_dead_cursor_error(error: CogniteAPIError) -> bool:
    """True for CDF's two answers to a cursor it will not continue from (expired or undecodable)."""
    message = error.message or ""
    return error.code == 400 and (message.startswith(_EXPIRED_PREFIX) or message.startswith(_INVALID))


def iter_sync_pages(client: Any, scope: SyncScope, cursor: str | None, limit: int, stop_at_ms: int) -> Iterator[Page]:
    """Page the sync API from ``cursor`` until caught up, or until a page shows changes made after ``stop_at_ms``.

    A twoPhase sync started without a cursor ends its backfill with a short page and only then streams the
    changes made since it started, so a fresh sync is caught up after two short pages in a row; a sync that
    resumes a cursor after one. Stopping at the run's start time keeps a constantly changing view from
    holding a run open forever: later changes are the next run's.
    """
    short_pages_needed = 2 if cursor is None else 1
    short_pages = 0
    # The stop rule waits for the end of a fresh backfill: its pages are ordered by the backfill, not by time.
    live = cursor is not None
    while True:
        body = build_sync_body(scope, cursor, limit)
        try:
            answer = client.post(project_path(client, SYNC_PATH), json=body).json()
        except CogniteAPIError as error:
            if cursor is not None and is_dead_cursor_error(error):
                raise CursorExpiredError(error.message) from error
            raise CdfAccessError(f"sync failed: {error.message} (HTTP {error.code})") from error
        items = answer["items"][RESULT_SET]
        cursor = answer["nextCursor"][RESULT_SET]
        assert cursor is not None  # sync always returns a cursor to continue from
        yield Page(items, cursor)
        short_pages = short_pages + 1 if len(items) < limit else 0
        if short_pages >= short_pages_needed:
            return
        if live and any(item["lastUpdatedTime"] >= stop_at_ms for item in items):
            return
        live = live or short_pages > 0


_DONE = object()


def prefetch(pages: Iterator[Page], depth: int) -> Generator[Page, None, None]:
    """Fetch pages on a background thread, at most ``depth`` ahead, while the caller writes earlier ones.

    Errors raised by the producer are re-raised in the caller at the point they occurred in the stream.
    Closing the returned generator stops the producer after its current request.
    """
    buffer: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                if stop.is_set():
                    return
                _put(buffer, page, stop)
            _put(buffer, _DONE, stop)
        except BaseException as error:  # handed over to the consumer, which re-raises it
            _put(buffer, error, stop)

    worker = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _put(buffer: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            buffer.put(item, timeout=0.2)
            return
        except queue.Full:
            continue
