"""The emulator's clock: wall time plus an offset that tests advance."""

from __future__ import annotations

import re
import threading
import time

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str | int | float) -> float:
    """Parse ``30s``, ``5m``, ``3d``, ``250ms`` or a bare number of seconds into seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r}: use a number with a unit such as 30s, 5m, 2h or 3d")
    value, unit = match.groups()
    return float(value) * _UNIT_SECONDS[unit or "s"]


class Clock:
    """Milliseconds since the epoch, as CDF stamps instances, moved forward by ``advance``."""

    def __init__(self) -> None:
        self._offset_ms = 0
        self._last_ms = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Current emulator time; strictly increasing so every write gets a distinct stamp order."""
        with self._lock:
            now = int(time.time() * 1000) + self._offset_ms
            if now < self._last_ms:
                now = self._last_ms
            self._last_ms = now
            return now

    def advance(self, duration: str | int | float) -> int:
        """Move the clock forward; returns the new time in ms."""
        seconds = parse_duration(duration)
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            self._offset_ms += int(seconds * 1000)
        return self.now_ms()
