"""ASM: stay notification (thông báo lưu trú) for establishments, hospitals and ward police."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask


class App(Flask):
    """Flask, with `ensure_sync` remembering which functions are plain ones.

    Flask asks `inspect.iscoroutinefunction` of every hook and view on every request (twelve times for an API
    call); the answer never changes, and asking cost 4 % of a filing's Python time (docs/PERFORMANCE.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        plain = self._plain.get(func)
        if plain is None:
            plain = self._plain[func] = super().ensure_sync(func) is func
        return func if plain else super().ensure_sync(func)


def create_app(config: type | None = None, **overrides: Any) -> Flask:
    """Build the application. No I/O here: migrations and data loading are CLI commands."""
    from asm import config as config_module

    app = App(__name__, template_folder="../templates", instance_relative_config=True)
    app.config.from_object(config or config_module.from_env())
    app.config.from_prefixed_env("ASM")
    app.config.update(overrides)
    config_module.check(app.config)

    configure_proxies(app)
    configure_inputs(app)
    configure_extensions(app)
    configure_templates(app)
    configure_blueprints(app)
    configure_cli(app)
    return app


def configure_proxies(app: Flask) -> None:
    """Behind `TRUSTED_PROXIES` reverse proxies, the client's address, scheme and host are the ones they forward:
    rate limits count per client (not all clients as the proxy's one address), the access log records the
    client, and HTTPS is known as such. With 0 (the default) forwarded headers are ignored, so a client cannot
    claim another address by sending them."""
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]


def configure_inputs(app: Flask) -> None:
    """Bounded `<int:...>` ids, bounded integer arguments and a JSON reader that cannot recurse (asm/web/inputs)."""
    from asm.web import inputs

    inputs.init_app(app)


def configure_extensions(app: Flask) -> None:
    from asm import ratelimit, rawdb
    from asm.audit import chains
    from asm.extensions import babel, csrf, db, htmx, login_manager, migrate
    from asm.web import sessions
    from asm.web.i18n import select_locale

    db.init_app(app)
    rawdb.init_app(app)
    sessions.init_app(app)
    # The login cookie lives as long as a login may (asm/accounts/sessions.py holds the real limits).
    app.permanent_session_lifetime = timedelta(hours=float(app.config["SESSION_MAX_HOURS"]))
    chains.install()  # the access log's rows are hash-chained as they are flushed
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    ratelimit.init_app(app)
    htmx.init_app(app)
    from asm import jobs

    jobs.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_timezone="Asia/Ho_Chi_Minh")


def configure_templates(app: Flask) -> None:
    from asm.web import templating

    templating.init_app(app)


def configure_blueprints(app: Flask) -> None:
    from asm.accounts.admin import bp as admin_bp
    from asm.accounts.views import bp as accounts_bp
    from asm.api.views import bp as api_bp
    from asm.devices.views import bp as devices_bp
    from asm.establishments.views import bp as establishments_bp
    from asm.foreigners.views import bp as foreigners_bp
    from asm.hospital.views import bp as hospital_bp
    from asm.police.views import bp as police_bp
    from asm.stays.offline import bp as desk_offline_bp
    from asm.stays.views import bp as stays_bp
    from asm.web import access, errors, headers
    from asm.web.views import bp as web_bp
    from kiosk.views import bp as kiosk_bp

    blueprints = (web_bp, accounts_bp, admin_bp, establishments_bp, stays_bp, api_bp, devices_bp, kiosk_bp, hospital_bp)
    for bp in (*blueprints, police_bp):
        app.register_blueprint(bp)
    app.register_blueprint(foreigners_bp)  # foreign guests' declarations (issue 12)
    app.register_blueprint(desk_offline_bp)  # the desk as an installable app that works offline (issue 15)
    from asm.accounts.joining_views import bp as joining_bp
    from asm.accounts.platform import bp as platform_bp
    from asm.establishments.manage import bp as manage_bp
    from asm.police.approvals import bp as approvals_bp

    for bp in (joining_bp, manage_bp, approvals_bp, platform_bp):  # joining and running from a browser (issue 16)
        app.register_blueprint(bp)
    from asm.jobs.views import bp as reminders_bp

    app.register_blueprint(reminders_bp)  # deadline reminders and the desk's manifest (issue 14)
    access.init_app(app)
    errors.init_app(app)
    headers.init_app(app)


def configure_cli(app: Flask) -> None:
    from asm.accounts.cli import tokens_cli, users_cli
    from asm.audit.cli import audit_cli
    from asm.demo.cli import demo_cli
    from asm.establishments.cli import establishments_cli
    from asm.geo.cli import units_cli
    from asm.pgroles import db_roles_cli

    for group in (units_cli, establishments_cli, users_cli, tokens_cli, demo_cli, audit_cli, db_roles_cli):
        app.cli.add_command(group)
    from asm.hospital.cli import hospital_cli

    app.cli.add_command(hospital_cli)
    from asm.police.cli import police_cli

    app.cli.add_command(police_cli)
    from asm.jobs.cli import jobs_cli, people_cli, reminders_cli, retention_cli

    for group in (jobs_cli, reminders_cli, retention_cli, people_cli):
        app.cli.add_command(group)
