"""A local CDF over real HTTP, for tests, demos and offline pipeline development."""

from cdf_emulator.clock import parse_duration
from cdf_emulator.emulator import DEFAULT_CURSOR_TTL, Emulator

__all__ = ["DEFAULT_CURSOR_TTL", "Emulator", "parse_duration"]
