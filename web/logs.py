"""The server's logs, with the standard ``logging`` module:

* ``kb.access``: one line per request (time, client, user, method, path, status, bytes,
  milliseconds; the format is the ``access_log_format`` setting), to stderr or a file;
* ``kb.error``: warnings and errors, tracebacks included (the app's own logger writes there too),
  and a ``slow`` line for every request slower than ``slow_query_ms``.

``log_config`` (a ``logging.config`` file: JSON for ``dictConfig``, else INI for ``fileConfig``)
replaces all of this with the operator's own configuration.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
import time
from datetime import datetime, timezone

from flask import Flask, g, request

ACCESS = logging.getLogger("kb.access")
ERROR = logging.getLogger("kb.error")
_CONFIGURED: set[tuple] = set()


def _handler(target: str | None) -> logging.Handler | None:
    if not target or target.lower() == "off":
        return None
    if target == "-":
        return logging.StreamHandler(sys.stderr)
    return logging.FileHandler(target, encoding="utf-8")


def configure(settings: dict) -> None:
    """Set the loggers up once per distinct configuration (tests build many apps)."""
    key = tuple(settings.get(k) for k in ("log_config", "access_log", "error_log"))
    if key in _CONFIGURED:
        return
    _CONFIGURED.add(key)
    if settings.get("log_config"):
        path = settings["log_config"]
        if str(path).endswith(".json"):
            with open(path, encoding="utf-8") as f:
                logging.config.dictConfig(json.load(f))
        else:
            logging.config.fileConfig(path, disable_existing_loggers=False)
        return
    for logger, target, fmt in ((ACCESS, settings.get("access_log", "-"), "%(message)s"),
                                (ERROR, settings.get("error_log", "-"), "%(asctime)s %(levelname)s %(name)s: %(message)s")):
        for old in list(logger.handlers):
            logger.removeHandler(old)
        handler = _handler(target)
        logger.propagate = False
        if handler is None:
            logger.addHandler(logging.NullHandler())
            continue
        handler.setFormatter(logging.Formatter(fmt))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    settings = app.config.get("KB_SETTINGS") or {}
    if not app.testing or app.config.get("KB_LOG_IN_TESTS"):
        configure(settings)
    app.logger.handlers[:] = ERROR.handlers or app.logger.handlers
    fmt = settings.get("access_log_format") or "{time} {client} {user} {method} {path} {status} {bytes} {ms}ms"
    slow_ms = float(settings.get("slow_query_ms") or 500.0)

    @app.before_request
    def _start():
        g.kb_started = time.perf_counter()

    @app.after_request
    def _access(response):
        started = getattr(g, "kb_started", None)
        ms = (time.perf_counter() - started) * 1000 if started else 0.0
        path = request.full_path.rstrip("?") if request.query_string else request.path
        fields = {"time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "client": request.remote_addr or "-", "user": getattr(g, "kb_user_name", None) or "-",
                  "method": request.method, "path": path, "status": response.status_code,
                  "bytes": response.calculate_content_length() or "-", "ms": f"{ms:.1f}"}
        try:
            ACCESS.info(fmt.format(**fields))
        except (KeyError, IndexError, ValueError):  # a bad format must not break responses
            ACCESS.info("{time} {client} {user} {method} {path} {status} {bytes} {ms}ms".format(**fields))
        if ms > slow_ms:
            ERROR.warning("slow request: %.0f ms %s %s (status %s)", ms, request.method, path, response.status_code)
        return response
