"""Security: response headers, CSRF tokens for forms, who may write."""

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
        if getattr(request, "kb_private", True) and request.path != "/health":
            # pages can hold documents above the lowest access level: no shared caches
            response.headers.setdefault("Cache-Control", "private, no-store")
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


def writer_from_form(typed_token: str | None):
    """The user an upload form acts for: a signed-in editor, or the owner of the token typed into
    the form (the admin token or an editor's API token); 403 otherwise."""
    from web import auth

    if not auth.writes_enabled():
        abort(403, description="上传已关闭：服务器没有账户，也未配置 KB_ADMIN_TOKEN。(uploads are disabled)")
    user = auth.user()
    if user is not None and user.can("editor"):
        return user
    typed = (typed_token or "").strip()
    if typed:
        expected = current_app.config.get("ADMIN_TOKEN")
        if expected and hmac.compare_digest(typed.encode(), expected.encode()):
            return auth._admin_token_user()
        owner = auth.store().by_token(typed)
        if owner is not None and owner.can("editor"):
            return owner
    abort(403, description="需要编辑权限：请登录，或填写正确的口令。(sign in as an editor, or give a valid token)")


def require_writer():
    """For the JSON API: the request's user (bearer token or session) must be an editor."""
    from web import auth

    if not auth.writes_enabled():
        abort(403, description="上传已关闭：服务器没有账户，也未配置 KB_ADMIN_TOKEN。(uploads are disabled)")
    user = auth.user()
    if user is None:
        response = auth.unauthorised("需要编辑权限的令牌。(an editor's token is needed)")
        if response is not None:
            abort(401, description="需要编辑权限的令牌。(an editor's token is needed)")
    if not user.can("editor"):
        abort(403, description="需要编辑权限。(needs the editor role)")
    return user
