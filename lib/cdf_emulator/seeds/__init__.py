"""Deterministic seed data sets: ``none``, ``movies`` and ``demo``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SEEDS = ("none", "movies", "demo")


def _loader(name: str) -> Callable[[Any], None] | None:
    if name == "movies":
        from cdf_emulator.seeds import movies

        return movies.load
    if name == "demo":
        from cdf_emulator.seeds import demo

        return demo.load
    return None


def load_seed(name: str, state: Any) -> None:
    """Load seed ``name`` into a fresh project state (``none`` loads nothing)."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}: choose one of {', '.join(SEEDS)}")
    loader = _loader(name)
    if loader is not None:
        loader(state)
