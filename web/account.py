"""Signing in and out, and the admin page (users and the last audit entries)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from web import audit, auth, security

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, name = None, ""
    if request.method == "POST":
        security.check_csrf()
        name = request.form.get("name", "").strip()[:64]
        password = request.form.get("password", "")[:1024]
        address = request.remote_addr or "-"
        limiter = current_app.extensions["login_limiter"]
        wait = limiter.retry_after(name, address)
        if wait:
            audit.record("login_failed", user=name or None, reason="rate limited", address=address)
            error = auth._http_error(429, f"尝试次数过多，请 {wait} 秒后再试。(too many attempts; retry after {wait} s)")
            error.retry_after = wait
            raise error
        user = auth.store().check_password(name, password)
        if user is None:
            limiter.failed(name, address)
            audit.record("login_failed", user=name or None, address=address)
            error = "用户名或密码不正确。(wrong name or password)"
        else:
            limiter.succeeded(name)
            session.clear()
            session["user"] = user.name
            session["seen"] = time.time()
            session.permanent = False
            audit.record("login", user=user.name, address=address)
            return redirect(auth.safe_next(request.args.get("next")))
    return render_template("login.html", error=error, name=name, next=request.args.get("next", "")), \
        (401 if error else 200)


@bp.post("/logout")
def logout():
    security.check_csrf()
    name = session.get("user")
    session.clear()
    if name:
        audit.record("logout", user=name)
    return redirect(url_for("pages.search_page"))


@bp.get("/admin")
@auth.require("admin")
def admin():
    from kb.audit import AuditLog

    entries = AuditLog(current_app.extensions["kb"].index_dir, current_app.config.get("AUDIT_LOG")).last(200)
    return render_template("admin.html", users=[u.public() for u in auth.store().users()], entries=entries)
