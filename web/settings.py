"""The site's Flask settings, from the declared settings (``kb.settings``: flags > environment >
kb.toml > defaults)."""

from __future__ import annotations

from kb import settings as kbsettings


def flask_config(values: dict | None = None) -> dict:
    """Flask config keys from effective settings (``kb.settings.load()`` when not given)."""
    values = values if values is not None else kbsettings.load()
    config = {
        "KB_SETTINGS": values,
        "KB_INDEX": values.get("index"),
        "ADMIN_TOKEN": values.get("admin_token"),
        "UPLOAD_MAX_BYTES": int(values.get("upload_max_mb") or 50) * 1024 * 1024,
        "UPLOAD_MAX_FILES": int(values.get("upload_max_files") or 20),
        "UPLOAD_WAIT_SECONDS": float(values.get("upload_wait_seconds", kbsettings.SETTINGS["upload_wait_seconds"].default)),
        "BASE_URL": (values.get("base_url") or "").rstrip("/") or None,
        "LOGIN_REQUIRED": str(values.get("login") or "optional").lower() == "required",
        "TRUSTED_USER_HEADER": values.get("trusted_user_header") or None,
        "SESSION_IDLE_SECONDS": int(values.get("session_idle_minutes") or 120) * 60,
        "AUDIT_LOG": values.get("audit_log") or None,
        "BEHIND_PROXY": bool(values.get("behind_proxy")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
    if values.get("secret_key"):
        config["SECRET_KEY"] = values["secret_key"]
    return config
