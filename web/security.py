"""Security: response headers, CSRF tokens for forms, the admin token for writes."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, current_app, request, session

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token


def csrf_token() -> str:
    """This session's form token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="表单已过期或来源不明，请刷新页面后重试。(CSRF token missing or wrong)")


def writes_enabled() -> bool:
    return bool(current_app.config.get("ADMIN_TOKEN"))


def check_admin_token(sent: str | None) -> None:
    """403 unless writes are on and the token matches (constant-time)."""
    expected = current_app.config.get("ADMIN_TOKEN")
    if not expected:
        abort(403, description="上传已关闭：服务器未配置 KB_ADMIN_TOKEN。(uploads are disabled)")
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(403, description="管理口令不正确。(wrong or missing admin token)")


def token_from_request() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("X-KB-Token") or request.form.get("token")
