"""Site settings from environment variables (configuration is data, not code)."""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def from_environment() -> dict:
    """KB_INDEX: index folder; KB_ADMIN_TOKEN: enables uploads (none: uploads are off);
    KB_SECRET_KEY: signs the session cookie (random per start if unset);
    KB_UPLOAD_MAX_MB / KB_UPLOAD_MAX_FILES: upload limits."""
    config = {
        "KB_INDEX": os.environ.get("KB_INDEX") or None,
        "ADMIN_TOKEN": os.environ.get("KB_ADMIN_TOKEN") or None,
        "UPLOAD_MAX_BYTES": _int("KB_UPLOAD_MAX_MB", 50) * 1024 * 1024,
        "UPLOAD_MAX_FILES": _int("KB_UPLOAD_MAX_FILES", 20),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
    if os.environ.get("KB_SECRET_KEY"):
        config["SECRET_KEY"] = os.environ["KB_SECRET_KEY"]
    return config
