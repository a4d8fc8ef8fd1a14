"""The web site: a thin Flask layer over kb.search (app factory, blueprints, Jinja templates).

    flask --app web run            # development
    python -m web                  # production server (waitress)
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask
from jinja2 import FileSystemBytecodeCache

from kb.config import index_dir
from kb.search import KnowledgeBase


def create_app(config: dict | None = None, settings_values: dict | None = None) -> Flask:
    """Build the site. Settings come from ``kb.settings`` (flags > environment > kb.toml >
    defaults; ``settings_values`` when the caller loaded them), then ``config`` (tests)."""
    from web import account, api, auth, errors, logs, pages, security, settings

    app = Flask(__name__)
    # compiled templates kept between starts (~80 ms of a server's first answer); Jinja's own
    # per-user temporary folder, keyed by each template's source, so an edited template recompiles
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache()
    app.config.update(settings.flask_config(settings_values))
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):  # sessions (CSRF tokens) then last until a restart
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_BYTES"]
    app.extensions["kb"] = KnowledgeBase(Path(app.config["KB_INDEX"] or index_dir()))
    if app.config.get("BEHIND_PROXY"):  # X-Forwarded-For/-Proto from the one proxy in front (nginx)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(account.bp)
    errors.register(app)
    logs.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    pages.register_filters(app)
    return app


def knowledge_base(app: Flask) -> KnowledgeBase:
    return app.extensions["kb"]
