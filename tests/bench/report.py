"""The benchmark's printed table, its comparison with the targets of issue 7, and the JSON it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.bench.measure import StageResult

STAGE_TITLES = {
    "raw_fetch": "(a) raw fetch",
    "initial": "(b) initial load",
    "incremental": "(c) incremental",
    "idle": "(d) idle",
    "publish": "(e) publish",
}
INITIAL_RATE_TARGET = 20_000
INITIAL_RATIO_TARGET = 1.5
INCREMENTAL_TARGET_S = 15.0
IDLE_TARGET_S = 5.0
PUBLISH_TARGET_S = 20.0
TARGET_ROWS = 1_000_000


def ratio(stages: dict[str, StageResult]) -> float | None:
    """(b)/(a): initial load time over raw fetch time."""
    raw, initial = stages.get("raw_fetch"), stages.get("initial")
    if raw is None or initial is None or raw.seconds <= 0 or initial.error:
        return None
    return initial.seconds / raw.seconds


def evaluate_targets(stages: dict[str, StageResult], views: int, nodes: int) -> list[dict[str, Any]]:
    """Each target of issue 7 with the measured value and whether it is met (``None``: not measured)."""
    checks: list[dict[str, Any]] = []

    def add(name: str, measured: float | None, limit: float, higher_is_better: bool = False, note: str = "") -> None:
        met = None if measured is None else (measured >= limit if higher_is_better else measured <= limit)
        checks.append({"target": name, "measured": measured, "limit": limit, "met": met, "note": note})

    scale = "" if nodes >= TARGET_ROWS else f"measured at {nodes:,} nodes, the target is for {TARGET_ROWS:,}"
    initial = stages.get("initial")
    add("initial load instances/s", initial.rate if initial else None, INITIAL_RATE_TARGET, higher_is_better=True)
    add("initial load / raw fetch", ratio(stages), INITIAL_RATIO_TARGET)
    incremental = stages.get("incremental")
    add("incremental cycle s", _seconds(incremental), INCREMENTAL_TARGET_S, note=scale)
    idle = _seconds(stages.get("idle"))
    add("idle cycle s per view", None if idle is None else idle / max(1, views), IDLE_TARGET_S)
    add("publish s", _seconds(stages.get("publish")), PUBLISH_TARGET_S, note=scale)
    return checks


def _seconds(stage: StageResult | None) -> float | None:
    if stage is None or stage.error:
        return None
    return stage.seconds


def format_table(stages: dict[str, StageResult]) -> str:
    """One line per stage: seconds, instances, instances/s, CPU per process and memory peaks."""
    header = (
        f"{'stage':<18}{'seconds':>9}{'instances':>11}{'inst/s':>10}  "
        f"{'cpu driver/jvm/emu s':>21}  {'driver RSS peak (+growth) MiB':>30}  {'JVM heap peak MiB':>17}  {'load':>10}"
    )
    lines = [header, "-" * len(header)]
    for key, title in STAGE_TITLES.items():
        stage = stages.get(key)
        if stage is None:
            continue
        if stage.error and not stage.seconds:
            lines.append(f"{title:<18}  not measured: {stage.error}")
            continue
        rate = f"{stage.rate:,.0f}" if stage.rate else "-"
        cpu = "/".join(f"{stage.cpu_s.get(name, 0):.1f}" for name in ("driver", "jvm", "emulator"))
        memory = stage.memory
        rss = f"{memory.get('driver_rss_peak_mb', 0):,.0f} (+{memory.get('driver_rss_growth_mb', 0):,.0f})"
        lines.append(
            f"{title:<18}{stage.seconds:>9.2f}{stage.instances:>11,}{rate:>10}  {cpu:>21}  {rss:>30}  "
            f"{memory.get('jvm_heap_peak_mb', 0):>17,.0f}  {_load(stage):>10}"
            + (f"  FAILED: {stage.error}" if stage.error else "")
        )
    value = ratio(stages)
    lines.append(f"ratio (b)/(a) = {value:.2f}" if value is not None else "ratio (b)/(a): not available")
    return "\n".join(lines)


def _load(stage: StageResult) -> str:
    load = stage.detail.get("load_average")
    return f"{load[0]:.1f}->{load[1]:.1f}" if load else "-"


def format_targets(checks: list[dict[str, Any]]) -> str:
    lines = ["targets (issue 7):"]
    for check in checks:
        measured = check["measured"]
        if measured is None:
            verdict, shown = "not measured", "-"
        else:
            verdict = "met" if check["met"] else "MISSED"
            shown = f"{measured:,.2f}"
        note = f"  ({check['note']})" if check["note"] else ""
        lines.append(f"  {check['target']:<28} {shown:>12}  limit {check['limit']:>10,}  {verdict}{note}")
    return "\n".join(lines)


def format_steps(stage: StageResult) -> str:
    """Where a replicate stage spent its time: self seconds per step (all threads) and share of writer time."""
    fetch = [label for label in stage.steps if label.startswith("fetch page")]
    writer_total = sum(step["seconds"] for label, step in stage.steps.items() if label not in fetch)
    lines = [f"{STAGE_TITLES.get(stage.name, stage.name)}: steps (self time summed over threads)"]
    for label, step in stage.steps.items():
        share = "" if label in fetch or writer_total <= 0 else f"{100 * step['seconds'] / writer_total:5.1f}%"
        lines.append(f"  {label:<45}{step['seconds']:>9.2f} s {int(step['calls']):>7} calls  {share}")
    threads = stage.detail.get("jvm_threads_cpu_s")
    if threads:
        lines.append(
            "  JVM CPU by thread group: " + ", ".join(f"{name} {value:.1f} s" for name, value in threads.items())
        )
    return "\n".join(lines)


def format_timeline(stage: StageResult, min_seconds: float = 0.2) -> str:
    """The timed steps of a stage of at least ``min_seconds``, by start time and thread: what waits on what."""
    lines = [f"{STAGE_TITLES.get(stage.name, stage.name)}: timeline (start, length, thread, step)"]
    for event in stage.detail.get("timeline", []):
        if event["seconds"] >= min_seconds:
            lines.append(
                f"  {event['start_s']:>7.2f} s {event['seconds']:>7.2f} s  {event['thread']:<16} {event['step']}"
            )
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
