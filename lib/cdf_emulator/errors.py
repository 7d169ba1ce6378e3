"""CDF-shaped API errors raised by the emulator's handlers."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as CDF's body: ``{"error": {"code", "message", ...}}``.

    ``missing`` and ``duplicated`` become the lists the SDK turns into
    ``CogniteNotFoundError`` / ``CogniteDuplicatedError``.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        missing: list[Any] | None = None,
        duplicated: list[Any] | None = None,
        extra: dict[str, Any] | None = None,
        auto_retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.missing = missing
        self.duplicated = duplicated
        self.extra = extra or {}
        self.auto_retryable = auto_retryable

    def body(self) -> dict[str, Any]:
        """The JSON error body CDF would send."""
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.missing:
            error["missing"] = self.missing
        if self.duplicated:
            error["duplicated"] = self.duplicated
        if self.auto_retryable:
            error["isAutoRetryable"] = True
        error.update(self.extra)
        return {"error": error}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str, missing: list[Any] | None = None) -> ApiError:
    return ApiError(404 if missing is None else 400, message, missing=missing)
