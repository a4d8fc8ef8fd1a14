"""Writing the audit trail from the site (``kb.audit``): who did what, from which request."""

from __future__ import annotations

from flask import current_app

from kb.audit import AuditLog
from web import auth


def record(action: str, user: str | None = None, **details) -> None:
    """One audit line; the current user unless named. Never fails a request (a full disk is
    reported to the error log)."""
    try:
        log = AuditLog(current_app.extensions["kb"].index_dir, current_app.config.get("AUDIT_LOG"))
        log.write(action, user if user is not None else auth.user_name(), **details)
    except OSError:
        current_app.logger.exception("cannot write the audit trail")
