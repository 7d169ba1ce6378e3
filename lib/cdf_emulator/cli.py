"""``cdf-emulator serve``: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from cdf_emulator.clock import parse_duration
from cdf_emulator.emulator import DEFAULT_CURSOR_TTL, Emulator
from cdf_emulator.seeds import SEEDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdf-emulator", description="A local CDF over real HTTP.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve one emulated CDF project")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8585, help="port to bind; 0 picks a free one (default 8585)")
    serve.add_argument("--project", default="emulated", help="CDF project name (default emulated)")
    serve.add_argument("--seed", choices=SEEDS, default="none", help="data set to load at start (default none)")
    serve.add_argument(
        "--cursor-ttl",
        default=DEFAULT_CURSOR_TTL,
        help="sync cursor lifetime, e.g. 30s, 5m, 3d (default 3d, as CDF)",
    )
    serve.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    try:
        parse_duration(args.cursor_ttl)
    except ValueError as error:
        print(f"cdf-emulator: --cursor-ttl: {error}", file=sys.stderr)
        return 2
    emulator = Emulator(
        project=args.project, seed=args.seed, cursor_ttl=args.cursor_ttl, host=args.host, port=args.port
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        import threading

        threading.Thread(target=_announce, args=(emulator,), daemon=True).start()
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"cdf-emulator: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def _announce(emulator: Emulator) -> None:
    import time

    for _ in range(100):
        try:
            port = emulator.port
        except RuntimeError:
            time.sleep(0.05)
            continue
        print(
            f"cdf-emulator: project '{emulator.project}' at http://{emulator.host}:{port} "
            f"(token URL http://{emulator.host}:{port}/oauth2/token)",
            flush=True,
        )
        return


if __name__ == "__main__":
    sys.exit(main())
