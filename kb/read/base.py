"""Small helpers the format readers share."""

from __future__ import annotations


def brief(exc: BaseException, limit: int = 160) -> str:
    """'ErrorType: message', cut to `limit` characters, for a ReadError cause."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"
