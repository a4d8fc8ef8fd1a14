"""Who is asking: sign-in (session cookie), API tokens, the admin token, a trusted proxy header;
what they may do (roles) and see (clearance); login rate limits.

Every request gets ``g.user`` (a ``kb.users.User`` or None) before any route runs. Anonymous
visitors see the lowest access level; with ``login = "required"`` they see only the login page,
static files and the health check (HTML: a redirect to /login; API: 401 with WWW-Authenticate).
A token is accepted only in the ``Authorization: Bearer`` header (never in a URL, where logs and
referrers would keep it).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque
from functools import wraps
from urllib.parse import urlparse

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from kb.access import levels
from kb.users import ROLES, User, UserStore

PUBLIC_ENDPOINTS = {"auth.login", "auth.logout", "static", "pages.health"}
ADMIN_TOKEN_USER = "admin-token"
LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies are marked Secure whenever the request came over HTTPS (also through a
    proxy that says so, see ``behind_proxy``)."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class LoginLimiter:
    """Failed sign-ins per user name and per address in a sliding window: over the limit -> 429."""

    def __init__(self):
        self._lock = threading.Lock()
        self._failures: dict[str, deque] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque:
        times = self._failures[key]
        while times and times[0] < now - LOGIN_WINDOW_SECONDS:
            times.popleft()
        return times

    def retry_after(self, name: str, address: str) -> int:
        """Seconds to wait before trying again (0: go ahead)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in ((f"u:{name}", MAX_FAILURES_PER_USER), (f"a:{address}", MAX_FAILURES_PER_ADDRESS)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(times[0] + LOGIN_WINDOW_SECONDS - now) + 1)
            return max(waits, default=0)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"u:{name}", f"a:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{name}", None)


def store() -> UserStore:
    return UserStore(current_app.extensions["kb"].index_dir)


def _admin_token_user() -> User:
    return User(ADMIN_TOKEN_USER, role="admin", clearance=levels().names[-1])


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _resolve_user() -> User | None:
    token = _bearer()
    if token:
        expected = current_app.config.get("ADMIN_TOKEN")
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return _admin_token_user()
        user = store().by_token(token)
        if user is None:
            from werkzeug.datastructures import WWWAuthenticate
            from werkzeug.exceptions import Unauthorized

            raise Unauthorized("API 令牌无效或已被吊销。(invalid or revoked token)",
                               www_authenticate=WWWAuthenticate("bearer", {"realm": "kb", "error": "invalid_token"}))
        return user
    header = current_app.config.get("TRUSTED_USER_HEADER")
    if header and request.headers.get(header):
        name = request.headers[header].strip()
        return store().get(name) or User(name, role="reader")
    name = session.get("user")
    if name:
        idle = current_app.config.get("SESSION_IDLE_SECONDS", 7200)
        if time.time() - float(session.get("seen", 0)) > idle:
            session.clear()
            return None
        user = store().get(name)
        if user is None:  # removed since they signed in
            session.clear()
            return None
        if time.time() - float(session.get("seen", 0)) > 60:
            session["seen"] = time.time()
        return user
    return None


def user() -> User | None:
    return getattr(g, "user", None)


def clearance() -> int:
    """The access rank the current request may see (anonymous: the lowest)."""
    current = user()
    return current.clearance_rank if current else levels().lowest


def user_name() -> str | None:
    current = user()
    return current.name if current else None


def is_admin() -> bool:
    current = user()
    return bool(current and current.can("admin"))


def can(role: str) -> bool:
    current = user()
    return bool(current and current.can(role))


def writes_enabled() -> bool:
    """Uploads and corrections are possible at all: accounts exist, or an admin token is set."""
    return bool(current_app.config.get("ADMIN_TOKEN")) or store().any()


def unauthorised(message: str = "请先登录。(sign-in required)"):
    """401 for the API (with WWW-Authenticate), a redirect to the login page for pages."""
    if request.path.startswith("/api/") or request.path in ("/feed", "/export.csv"):
        from werkzeug.datastructures import WWWAuthenticate
        from werkzeug.exceptions import Unauthorized

        raise Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", {"realm": "kb"}))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _http_error(code: int, message: str):
    from werkzeug.exceptions import HTTPException

    error = HTTPException(description=message)
    error.code = code
    return error


def require(role: str):
    """A route decorator: the signed-in user must have ``role`` (401 when nobody is, 403 when
    they lack the right)."""
    assert role in ROLES

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            current = user()
            if current is None:
                response = unauthorised()
                if response is not None:
                    return response
            if not current.can(role):
                abort(403, description=f"需要{_ROLE_NAMES[role]}权限。(needs the {role} role)")
            return view(*args, **kwargs)

        return wrapped

    return decorate


_ROLE_NAMES = {"reader": "读者", "editor": "编辑", "admin": "管理员"}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not target:
        return url_for("pages.search_page")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.search_page")
    return target


def init_app(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    app.extensions["login_limiter"] = LoginLimiter()

    @app.before_request
    def _who():
        g.user = _resolve_user()
        g.kb_user_name = g.user.name if g.user else None
        if (app.config.get("LOGIN_REQUIRED") and g.user is None
                and request.endpoint not in PUBLIC_ENDPOINTS and request.endpoint is not None):
            return unauthorised()
        return None

    app.jinja_env.globals.update(current_user=user, user_can=can)
