"""Every setting, declared once: its environment variable, its key in ``kb.toml``, its type and
default, whether it is a secret.

Precedence: command-line flags > environment (``KB_…``) > the config file > defaults. The config
file is ``--config FILE``, else ``$KB_CONFIG``, else ``kb.toml`` in the instance folder (beside
the index folder: the folder that holds ``index/``), if it exists. ``kb serve --print-config``
shows the effective settings with secrets masked.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.config import DEFAULT_INDEX_DIR

CONFIG_NAME = "kb.toml"


@dataclass(frozen=True)
class Setting:
    key: str  # in kb.toml
    env: str  # environment variable
    kind: type  # str, int, float, bool
    default: Any
    description: str
    secret: bool = False

    def parse(self, raw: Any, origin: str) -> Any:
        if raw is None:
            return None
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on", "required"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"{origin}: {self.key} must be true or false, not {raw!r}")
        try:
            return self.kind(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{origin}: {self.key} must be a {self.kind.__name__}, not {raw!r}") from None


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("index", "KB_INDEX", str, None, "index folder (default: index/ in the project)"),
    Setting("host", "KB_HOST", str, "127.0.0.1", "address the server listens on (0.0.0.0: the office network)"),
    Setting("port", "KB_PORT", int, 5000, "port the server listens on"),
    Setting("threads", "KB_THREADS", int, 1, "server threads per process: searches are CPU work under one "
            "interpreter lock, so a second thread only stretches each request and hands the lock between cores "
            "(uploads are ingested in the background, so one thread is never held for minutes)"),
    Setting("processes", "KB_PROCESSES", int, 1, "server processes on one socket: one per core serves searches "
            "in parallel (threads of one process share one interpreter lock)"),
    Setting("admin_token", "KB_ADMIN_TOKEN", str, None, "token that turns uploads on (an admin token for scripts)",
            secret=True),
    Setting("secret_key", "KB_SECRET_KEY", str, None, "signs session cookies (random per start if unset)", secret=True),
    Setting("upload_max_mb", "KB_UPLOAD_MAX_MB", int, 50, "largest upload request, MB"),
    Setting("upload_max_files", "KB_UPLOAD_MAX_FILES", int, 20, "most files in one upload"),
    Setting("upload_wait_seconds", "KB_UPLOAD_WAIT_SECONDS", float, 3.0, "an upload answers with its results when "
            "they are ready this soon, else with a status page (its ingest goes on in the background)"),
    Setting("base_url", "KB_BASE_URL", str, None, "the site's public address for absolute links (feeds); else links are relative"),
    Setting("access_log", "KB_ACCESS_LOG", str, "-", "access log: a file, or - for stderr, or off"),
    Setting("access_log_format", "KB_ACCESS_LOG_FORMAT", str,
            "{time} {client} {user} {method} {path} {status} {bytes} {ms}ms", "fields of an access log line"),
    Setting("error_log", "KB_ERROR_LOG", str, "-", "warnings and errors with tracebacks: a file, or - for stderr"),
    Setting("slow_query_ms", "KB_SLOW_QUERY_MS", float, 500.0, "a request slower than this is logged as slow"),
    Setting("login", "KB_LOGIN", str, "optional", "required: every page needs a signed-in user (but /login, /static/, /health); optional: anonymous visitors see the lowest access level"),
    Setting("trusted_user_header", "KB_TRUSTED_USER_HEADER", str, None, "trust this header from a reverse proxy as the signed-in user's name (single sign-on); off unless set"),
    Setting("behind_proxy", "KB_BEHIND_PROXY", bool, False, "trust one reverse proxy's X-Forwarded-For/-Proto (client address in logs, Secure cookies over HTTPS)"),
    Setting("session_idle_minutes", "KB_SESSION_IDLE_MINUTES", int, 120, "a signed-in session ends after this long without a request"),
    Setting("audit_log", "KB_AUDIT_LOG", str, None, "one audit file instead of daily files in <index>/audit/"),
    Setting("log_config", "KB_LOG_CONFIG", str, None, "a logging configuration file (logging.config fileConfig / dictConfig JSON); overrides the log settings"),
)}


def config_path(explicit: str | os.PathLike | None = None, index: str | os.PathLike | None = None) -> Path | None:
    """The config file in use: explicit, else $KB_CONFIG, else kb.toml beside the index folder."""
    if explicit:
        return Path(explicit)
    if os.environ.get("KB_CONFIG"):
        return Path(os.environ["KB_CONFIG"])
    index_dir = Path(index or os.environ.get("KB_INDEX") or DEFAULT_INDEX_DIR)
    candidate = index_dir.resolve().parent / CONFIG_NAME
    return candidate if candidate.exists() else None


def load(flags: dict | None = None, config: str | os.PathLike | None = None) -> dict[str, Any]:
    """The effective settings: flags > environment > config file > defaults; ValueError names a
    bad value and where it came from."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    path = config_path(config, flags.get("index"))
    from_file: dict = {}
    if path is not None:
        if not path.exists():
            raise ValueError(f"config file {path} does not exist")
        try:
            from_file = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"config file {path}: {exc}") from None
        unknown = set(from_file) - set(SETTINGS)
        if unknown:
            raise ValueError(f"config file {path}: unknown setting(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(SETTINGS)}")
    values: dict[str, Any] = {}
    for key, setting in SETTINGS.items():
        if key in flags:
            values[key] = setting.parse(flags[key], "command line")
        elif os.environ.get(setting.env) not in (None, ""):
            values[key] = setting.parse(os.environ[setting.env], f"environment {setting.env}")
        elif key in from_file:
            values[key] = setting.parse(from_file[key], str(path))
        else:
            values[key] = setting.default
    values["_config_file"] = str(path) if path else None
    return values


def shown(values: dict[str, Any]) -> str:
    """The settings as TOML lines, secrets masked (for ``--print-config``)."""
    lines = [f"# config file: {values.get('_config_file') or '(none)'}"]
    for key, setting in SETTINGS.items():
        value = values.get(key)
        if value is None:
            lines.append(f"# {key}: unset ({setting.description})")
            continue
        if setting.secret:
            value = "********"
        if isinstance(value, bool):
            rendered = str(value).lower()
        elif isinstance(value, (int, float)):
            rendered = repr(value)
        else:
            rendered = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines)
