"""``cdf-replicator``: the one console command. Parses arguments, configures logging, calls the pipeline."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from cdf_replicator import __version__
from cdf_replicator.errors import ConfigError, ReplicatorError

logger = logging.getLogger("cdf_replicator")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdf-replicator",
        description="Replicate CDF data-modeling views into Delta Lake and publish Parquet snapshots for BI.",
    )
    parser.add_argument("--version", action="version", version=f"cdf-replicator {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add(commands, "run", "replicate, then publish", loop=True)
    _add(commands, "replicate", "sync CDF into the Delta tables", loop=True)
    _add(commands, "publish", "write the deduplicated Parquet files from the Delta tables")
    _add(commands, "validate", "check the config and that CDF has every configured model and view; writes nothing")
    reset = _add(commands, "reset-view", "forget a view's cursors so the next run backfills it")
    reset.add_argument("--drop-tables", action="store_true", help="also delete the view's Delta tables")
    demo = commands.add_parser("demo", help="run the replicator against the bundled CDF emulator")
    demo.add_argument("--config", default=None, help="demo config (default conf/demo.yaml)")
    demo.add_argument("--output", default=None, help="folder for the demo lake (default ./demo-output)")
    demo.add_argument("--verbose", action="store_true", help="debug logging and tracebacks")
    return parser


def _add(commands: Any, name: str, help_text: str, loop: bool = False) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
    sub.add_argument("--config", required=True, help="config YAML: a local path, s3://, s3a:// or dbfs:/ URI")
    sub.add_argument(
        "--view",
        action="append",
        default=[],
        metavar="SPACE/MODEL/VERSION/VIEW",
        help="only this view (repeatable); required for reset-view",
    )
    sub.add_argument("--dry-run", action="store_true", help="print what would be read and written, then stop")
    sub.add_argument(
        "--secret-scope",
        default=None,
        help="Databricks secret scope for ${VARS} the environment lacks (serverless jobs)",
    )
    sub.add_argument("--verbose", action="store_true", help="debug logging and tracebacks")
    if loop:
        sub.add_argument("--loop", action="store_true", help="run every extractor.poll-time seconds until stopped")
    return sub


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and of the ``jobs/`` shims; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    handler = _COMMANDS[args.command]
    try:
        return handler(args)
    except ConfigError as error:
        _report(error, args.verbose)
        return EXIT_USAGE
    except ReplicatorError as error:
        _report(error, args.verbose)
        return EXIT_FAILED
    except KeyboardInterrupt:
        logger.warning("interrupted")
        return 130


def configure_logging(verbose: bool, level: str = "INFO") -> None:
    """One stderr handler for the whole process; Spark's and the SDK's chatter stays at WARNING."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("py4j", "cognite", "urllib3", "httpx2", "httpcore2", "botocore", "boto3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _report(error: BaseException, verbose: bool) -> None:
    if verbose:
        logger.exception("cdf-replicator failed")
    print(f"cdf-replicator: error: {error}", file=sys.stderr)


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    """Import the command's module only when it runs: ``validate`` must not start Spark."""

    def run(args: argparse.Namespace) -> int:
        from cdf_replicator import commands

        return int(getattr(commands, name)(args))

    return run


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _lazy("run_command"),
    "replicate": _lazy("replicate_command"),
    "publish": _lazy("publish_command"),
    "validate": _lazy("validate_command"),
    "reset-view": _lazy("reset_view_command"),
    "demo": _lazy("demo_command"),
}


if __name__ == "__main__":
    sys.exit(main())
