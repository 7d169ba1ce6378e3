"""Deterministic seed data sets: ``none``, ``movies`` and ``demo``."""

from __future__ import annotations

from typing import Any

SEEDS = ("none", "movies", "demo")


def load_seed(name: str, state: Any) -> None:
    """Load seed ``name`` into a fresh project state."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}: choose one of {', '.join(SEEDS)}")
    if name == "none":
        return
    raise ValueError(f"seed {name!r} is not available yet")
