"""The CLI's commands: each loads the config, builds the adapters it needs and calls the pipeline."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

from cdf_replicator.config import Config
from cdf_replicator.config_source import load_config_from
from cdf_replicator.errors import ConfigError
from cdf_replicator.pipeline import (
    RunSummary,
    open_state_store,
    replicate,
    resolve_targets,
    state_root,
    sync_settings,
)
from cdf_replicator.report import format_plan, format_summary, terminal_progress
from cdf_replicator.run_report import report_run
from cdf_replicator.targets import Target

logger = logging.getLogger(__name__)


def validate_command(args: argparse.Namespace) -> int:
    """Check the config, the credentials and that every configured model and view exists. Writes nothing."""
    config, client = _connect(args)
    targets = resolve_targets(config, client, tuple(args.view))
    print(config.describe())
    print(format_plan(targets))
    print(f"OK: {len({t.view_id for t in targets})} views, {len(targets)} tables")
    return 0


def replicate_command(args: argparse.Namespace) -> int:
    config, client = _connect(args)
    targets = resolve_targets(config, client, tuple(args.view))
    if args.dry_run:
        print(format_plan(targets))
        return 0
    spark = open_session(config)
    store = open_state_store(config, spark, client)
    return _repeat(config, args.loop, lambda: _replicate_once(config, spark, client, store, targets))


def run_command(args: argparse.Namespace) -> int:
    """Replicate then publish; with ``--loop`` publish every ``snapshot-interval`` seconds."""
    config, client = _connect(args)
    targets = resolve_targets(config, client, tuple(args.view))
    if args.dry_run:
        print(format_plan(targets, publish=True))
        return 0
    spark = open_session(config)
    store = open_state_store(config, spark, client)
    last_publish = [float("-inf")]

    def cycle() -> int:
        code = _replicate_once(config, spark, client, store, targets)
        if time.monotonic() - last_publish[0] >= config.extractor.snapshot_interval or not args.loop:
            code = max(code, _publish_once(config, spark, targets))
            last_publish[0] = time.monotonic()
        return code

    return _repeat(config, args.loop, cycle)


def publish_command(args: argparse.Namespace) -> int:
    config, client = _connect(args)
    targets = resolve_targets(config, client, tuple(args.view))
    if args.dry_run:
        print(format_plan(targets, publish=True, replicate=False))
        return 0
    return _publish_once(config, open_session(config), targets)


def reset_view_command(args: argparse.Namespace) -> int:
    """Forget the cursors of the given views (and optionally drop their tables) so the next run backfills."""
    if not args.view:
        raise ConfigError("reset-view needs at least one --view SPACE/MODEL/VERSION/VIEW", path="--view")
    config, client = _connect(args)
    targets = resolve_targets(config, client, tuple(args.view))
    for target in targets:
        print(
            f"reset {target.label}: forget cursor {target.state_key}" + (", drop its table" if args.drop_tables else "")
        )
    if args.dry_run:
        return 0
    from cdf_replicator.storage import delete_path

    spark = open_session(config)
    store = open_state_store(config, spark, client)
    for target in targets:
        store.delete(target.state_key)
        delete_path(spark, target.seen_keys_path)
        if args.drop_tables:
            delete_path(spark, target.table_path)
            delete_path(spark, target.publish_path)
        logger.info("reset %s", target.label)
    return 0


def demo_command(args: argparse.Namespace) -> int:
    from cdf_replicator.demo import run_demo

    return run_demo(args.config, args.output, verbose=args.verbose)


def run_cycle(config: Config, spark: Any, client: Any, store: Any, targets: list[Target]) -> int:
    """One replicate-then-publish cycle; the exit code of the worse of the two."""
    return max(_replicate_once(config, spark, client, store, targets), _publish_once(config, spark, targets))


def open_session(config: Config) -> Any:
    """The Spark session for this config, with s3a pointed at a custom endpoint when one is configured."""
    from cdf_replicator.spark import configure_s3a, create_local_session, detect_platform, get_session

    spark_conf = dict(config.spark.conf)
    if config.spark.master and detect_platform() is None:
        spark = create_local_session(
            master=config.spark.master, shuffle_partitions=config.spark.shuffle_partitions or 4, extra_conf=spark_conf
        )
    else:
        spark = get_session(spark_conf)
    # CDF dates and timestamps may predate 1582 (placeholders like 0001-01-01): write them as proleptic
    # Gregorian values instead of failing, which is Spark 3's default for Parquet (and so Delta) writes.
    for setting in ("datetimeRebaseModeInWrite", "int96RebaseModeInWrite"):
        spark.conf.set(f"spark.sql.parquet.{setting}", "CORRECTED")
    s3 = config.destination.s3
    if s3 is not None and s3.endpoint_url:
        configure_s3a(spark, s3.endpoint_url, s3.path_style, s3.region)
    return spark


def _connect(args: argparse.Namespace) -> tuple[Config, Any]:
    from cdf_replicator.cdf import create_client, verify_access
    from cdf_replicator.cli import configure_logging

    env: Mapping[str, str] = os.environ
    if getattr(args, "secret_scope", None):
        from cdf_replicator.secrets import SecretScopeEnvironment, databricks_secret_fetcher

        env = SecretScopeEnvironment(os.environ, args.secret_scope, databricks_secret_fetcher())
    config = load_config_from(args.config, env)
    if not args.verbose:
        configure_logging(False, config.logger.console.level)
    client = create_client(config.cognite)
    verify_access(client, config.cognite)
    return config, client


def _replicate_once(config: Config, spark: Any, client: Any, store: Any, targets: list[Target]) -> int:
    progress = terminal_progress(sys.stderr) if sys.stderr.isatty() else None
    summary: RunSummary = replicate(
        spark, client, store, targets, sync_settings(config), config.extractor.workers, progress
    )
    print(format_summary(summary))
    report_run(client, config.cognite.extraction_pipeline, summary)
    if summary.failed:
        logger.error("%d of %d tables failed", len(summary.failed), len(summary.results))
        return 1
    return 0


def _publish_once(config: Config, spark: Any, targets: list[Target]) -> int:
    from cdf_replicator.publish_run import publish_targets

    return publish_targets(config, spark, targets, state_root(config))


def _repeat(config: Config, loop: bool, cycle: Any) -> int:
    """Run ``cycle`` once, or every ``poll-time`` seconds until SIGTERM/SIGINT (the current cycle finishes first)."""
    if not loop:
        return int(cycle())
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %d received: stopping after this cycle", signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    code = 0
    try:
        while not stop.is_set():
            started = time.monotonic()
            code = max(code, int(cycle()))
            stop.wait(max(0.0, config.extractor.poll_time - (time.monotonic() - started)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
