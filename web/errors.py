"""Error responses: an HTML page for people, JSON under /api/; never a traceback."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kb.errors import IndexLocked, KBError, QueryError

_SERVER_ERROR = "服务器出了点问题，请稍后再试。"


def _respond(code: int, message: str, headers: dict | None = None):
    if request.path.startswith("/api/"):
        return {"error": message, "status": code}, code, headers or {}
    return render_template("error.html", code=code, message=message), code, headers or {}


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = error.description if code < 500 else _SERVER_ERROR
        if code == 413 and error.description == RequestEntityTooLarge.description:  # werkzeug's own: the size
            message = "上传的文件太大。(upload too large)"
        # what the error itself says (Allow on a 405, WWW-Authenticate on a 401), not its HTML type
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        retry = getattr(error, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(retry)
        return _respond(code, message, headers)

    @app.errorhandler(QueryError)
    def query_error(error: QueryError):
        return _respond(400, str(error))

    @app.errorhandler(IndexLocked)
    def index_busy(error: IndexLocked):
        return _respond(503, "索引正在更新，请稍后再试。(the index is busy; retry shortly)", {"Retry-After": "30"})

    @app.errorhandler(KBError)
    def index_problem(error: KBError):
        """A damaged index, or one made by an older version: what to do, not a traceback."""
        app.logger.error("index problem on %s %s: %s", request.method, request.path, error)
        return _respond(503, f"知识库索引不可用：{error}", {"Retry-After": "300"})

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, _SERVER_ERROR)
