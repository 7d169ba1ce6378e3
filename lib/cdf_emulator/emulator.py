"""The emulator as a Python object: start it in-process, drive its clock, faults and data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cdf_emulator.clock import Clock, parse_duration
from cdf_emulator.errors import ApiError
from cdf_emulator.faults import FaultInjector
from cdf_emulator.routing import Request, Response, Router
from cdf_emulator.server import ADMIN_PREFIX, BODY_TIMEOUT_S, MAX_BODY_BYTES, TOKEN_PATH, EmulatorHTTPServer
from cdf_emulator.state import ProjectState, build_router

DEFAULT_CURSOR_TTL = "3d"

ResponseHook = Callable[[str, str, Response], None]


class Emulator:
    """A CDF project served over real HTTP on ``host:port`` (port 0 picks a free one).

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``base_url`` is what a
    ``ClientConfig`` or a replicator config's ``cognite.host`` points at. ``max_body_bytes`` (413 above it,
    also after gunzip) and ``body_timeout_s`` (408 when a body arrives slower) may be changed at any time.
    """

    def __init__(
        self,
        project: str = "emulated",
        seed: str = "none",
        cursor_ttl: str | float = DEFAULT_CURSOR_TTL,
        host: str = "127.0.0.1",
        port: int = 0,
        on_response: ResponseHook | None = None,
    ) -> None:
        self.project = project
        self.host = host
        self.cursor_ttl_s = parse_duration(cursor_ttl)
        self.clock = Clock()
        self.faults = FaultInjector()
        self.on_response = on_response
        self.max_body_bytes = MAX_BODY_BYTES
        self.body_timeout_s = BODY_TIMEOUT_S
        self._requested_port = port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.admin_router = _admin_router(self)
        self.state = ProjectState(self.clock, self.cursor_ttl_s)
        self.router: Router = build_router(self.state)
        self.load_seed(seed)

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> Emulator:
        self._server = EmulatorHTTPServer((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="cdf-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI)."""
        self._server = EmulatorHTTPServer((self.host, self._requested_port), self)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    # control -------------------------------------------------------------------------------
    def reset(self, seed: str = "none") -> None:
        """Forget all data (and faults), then load ``seed``; the clock keeps its time."""
        from cdf_emulator.seeds import SEEDS

        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}: choose one of {', '.join(SEEDS)}")
        self.faults.clear()
        self.state = ProjectState(self.clock, self.cursor_ttl_s)
        self.router = build_router(self.state)
        self.load_seed(seed)

    def load_seed(self, seed: str) -> None:
        from cdf_emulator.seeds import load_seed

        load_seed(seed, self.state)

    def token_inspection(self) -> dict[str, Any]:
        return {
            "subject": "emulated-client",
            "projects": [{"projectUrlName": self.project, "groups": []}],
            "capabilities": [],
        }

    def client(self, client_name: str = "cdf-emulator-client", **config: Any) -> Any:
        """A real ``CogniteClient`` pointed at this emulator with a static token."""
        from cognite.client import ClientConfig, CogniteClient, global_config
        from cognite.client.credentials import Token

        global_config.disable_pypi_version_check = True
        return CogniteClient(
            ClientConfig(
                client_name=client_name,
                project=self.project,
                credentials=Token("emulated-token"),
                base_url=self.base_url,
                **config,
            )
        )


def _admin_router(emulator: Emulator) -> Router:
    """Endpoints under ``/_emulator``: no real CDF path starts with it."""
    router = Router()

    def body(request: Request) -> dict[str, Any]:
        return request.json if isinstance(request.json, dict) else {}

    def fail(request: Request) -> dict[str, Any]:
        spec = body(request)
        try:
            emulator.faults.fail(
                spec["path"],
                int(spec["status"]),
                int(spec.get("count", 1)),
                spec.get("method"),
                auto_retryable=spec.get("autoRetryable") is True,
                body=spec.get("body"),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid fault: {error}") from None
        return {}

    def delay(request: Request) -> dict[str, Any]:
        spec = body(request)
        try:
            count = spec.get("count")
            emulator.faults.delay(
                spec["path"], parse_duration(spec["latency"]), None if count is None else int(count), spec.get("method")
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid latency rule: {error}") from None
        return {}

    def drop(request: Request) -> dict[str, Any]:
        spec = body(request)
        try:
            emulator.faults.drop(spec["path"], int(spec.get("count", 1)), spec.get("method"))
        except (KeyError, ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid drop rule: {error}") from None
        return {}

    def clear(request: Request) -> dict[str, Any]:
        emulator.faults.clear()
        return {}

    def advance(request: Request) -> dict[str, Any]:
        try:
            now = emulator.clock.advance(body(request)["duration"])
        except (KeyError, ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid clock advance: {error}") from None
        return {"now": now}

    def clock(request: Request) -> dict[str, Any]:
        return {"now": emulator.clock.now_ms()}

    def reset(request: Request) -> dict[str, Any]:
        try:
            emulator.reset(body(request).get("seed", "none"))
        except ValueError as error:
            raise ApiError(400, str(error)) from None
        return {}

    router.add("POST", "/faults/fail", fail)
    router.add("POST", "/faults/latency", delay)
    router.add("POST", "/faults/drop", drop)
    router.add("POST", "/faults/clear", clear)
    router.add("POST", "/clock/advance", advance)
    router.add("GET", "/clock", clock)
    router.add("POST", "/reset", reset)
    return router


__all__ = ["ADMIN_PREFIX", "DEFAULT_CURSOR_TTL", "Emulator"]
