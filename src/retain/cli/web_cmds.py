"""``retain serve``, ``retain users``, ``retain keys``, ``retain db upgrade`` and ``retain publish``.

Thin face: the application database's work (open and migrate, publish, users and keys, the demo's sign-ins) is
done by :mod:`retain.jobs.publish` and :mod:`retain.state.users`; this module resolves the settings and prints.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from retain.cli.common import AsOfOption, console, one_of, show_frame, state
from retain.errors import RetainError


def _key_scope(value: str) -> str:
    from retain.state.models import KeyScope

    return one_of(value.lower(), [s.value for s in KeyScope])


def _settings(ctx: typer.Context, **overrides):
    from retain.server.settings import Settings

    warehouse = state(ctx).db or os.environ.get("RETAIN_WAREHOUSE")
    return Settings(**({"warehouse": warehouse} if warehouse else {}), **overrides)


def _database_url(ctx: typer.Context) -> str:
    """The application database of ``--db``'s settings: ``$RETAIN_DATABASE_URL``, else next to the warehouse."""
    from retain.state.db import default_url

    settings = _settings(ctx, dev=True)
    return settings.database_url or default_url(settings.warehouse)


@contextmanager
def _db(ctx: typer.Context) -> Iterator:
    from retain.jobs.publish import app_database

    with app_database(_database_url(ctx)) as db:
        yield db


def publish_snapshots(ctx: typer.Context, as_of: str | None = None):
    """``retain publish``: copy the warehouse's state as of the one clock's day into the app database."""
    from retain.cli.clock import chosen_day
    from retain.jobs.publish import publish_snapshots as run_publish

    wh = state(ctx).warehouse()
    published = run_publish(wh, _database_url(ctx), chosen_day(wh, as_of))
    console.print(f"published {published.accounts:,} accounts as of {published.as_of}; results used: "
                  f"{', '.join(published.results_used) or 'none yet'}")
    return published


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="Users of the dashboard: create and list.", no_args_is_help=True)
    keys_app = typer.Typer(help="API keys: create (shown once) and revoke.", no_args_is_help=True)
    db_app = typer.Typer(help="The application database (users, sessions, snapshots).", no_args_is_help=True)
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(db_app, name="db")

    @app.command()
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", help="Address to bind (127.0.0.1: this machine only)."),
        port: int = typer.Option(8000, min=1, max=65535, help="Port."),
        dev: bool = typer.Option(False, "--dev", help="Development mode: allows the default secret key."),
        workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes (one per core)."),
    ) -> None:
        """Serve the dashboard and the API (http://HOST:PORT, API docs at /api/docs)."""
        import uvicorn

        from retain.server import serve as workers_serve
        from retain.server.app import create_app

        settings = _settings(ctx, dev=True) if dev else _settings(ctx)
        application = create_app(settings)  # checks the secret and migrates once, before any worker starts
        workers_serve.check_port(host, port)
        console.print(f"Retain dashboard on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
        forwarded = workers_serve.proxy_options(settings.trusted_proxies)  # RETAIN_TRUSTED_PROXIES, default none
        if workers == 1:
            workers_serve.settle_heap()
            uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False,
                        timeout_keep_alive=workers_serve.KEEP_ALIVE, **forwarded)
            return
        os.environ.update({"RETAIN_MIGRATE": "false", "RETAIN_DEV": "true" if settings.dev else "false"})
        if settings.warehouse:
            os.environ["RETAIN_WAREHOUSE"] = settings.warehouse
        application.state.runtime.engine.dispose()  # the workers open their own connections
        if workers_serve.supported():
            workers_serve.serve_workers(host, port, workers, settings.trusted_proxies)
        else:  # no SO_REUSEPORT (Windows): uvicorn's workers share one socket
            uvicorn.run(workers_serve.APP, factory=True, host=host, port=port, workers=workers,
                        log_level="warning", access_log=False, timeout_keep_alive=workers_serve.KEEP_ALIVE,
                        **forwarded)

    @app.command()
    def publish(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Copy accounts, scores and metric results from the warehouse into the dashboard's database."""
        publish_snapshots(ctx, as_of)

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        """Create or migrate the application database to the latest version."""
        from retain.jobs.publish import upgrade_database

        revision, url = upgrade_database(_database_url(ctx))
        console.print(f"application database at revision {revision}: {url}")

    @users_app.command("create")
    def users_create(
        ctx: typer.Context,
        username: str = typer.Argument(..., help="Sign-in name."),
        admin: bool = typer.Option(False, "--admin", help="Sees and manages everything."),
        manager: bool = typer.Option(False, "--manager", help="Sees their team's accounts (needs --member-id)."),
        member: bool = typer.Option(False, "--member", help="Sees their own book (needs --member-id)."),
        member_id: str = typer.Option(None, "--member-id", help="team_members.member_id of this person."),
        password: str = typer.Option(None, "--password", envvar="RETAIN_NEW_PASSWORD",
                                     help="Password (prompted when omitted)."),
    ) -> None:
        """Create a dashboard user; the first one is usually `--admin`."""
        from retain.state import users

        roles = [r for r, on in (("admin", admin), ("manager", manager), ("member", member)) if on]
        if len(roles) != 1:
            raise RetainError("choose exactly one role", hint="add --admin, --manager or --member")
        if password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        with _db(ctx) as db:
            user = users.create_user(db, username, password, roles[0], member_id=member_id, actor="cli")
        console.print(f"created {user.role} [bold]{user.username}[/bold]")

    @users_app.command("list")
    def users_list(ctx: typer.Context) -> None:
        """List dashboard users and their roles."""
        import pandas as pd

        from retain.state import users

        with _db(ctx) as db:
            rows = [{"username": u.username, "role": u.role, "member_id": u.member_id or "",
                     "active": u.is_active, "created_at": u.created_at.strftime("%Y-%m-%d")}
                    for u in users.list_users(db)]
        show_frame(pd.DataFrame(rows, columns=["username", "role", "member_id", "active", "created_at"]), "users")

    @keys_app.command("create")
    def keys_create(
        ctx: typer.Context,
        username: str = typer.Argument(..., help="User the key acts as (it sees what they see)."),
        name: str = typer.Option("api", "--name", help="A label for the key."),
        scope: str = typer.Option("read", "--scope", parser=_key_scope,
                                  help="read, or write (ingestion; admins only)."),
    ) -> None:
        """Create an API key; it is printed once and never stored."""
        from retain.state import users

        with _db(ctx) as db:
            key, row = users.create_key(db, users.require_user(db, username), name, scope, actor="cli")
        console.print(f"key {row.prefix} ({row.scope}) for {username}; copy it now, it is not shown again:")
        console.print(key, highlight=False, soft_wrap=True)

    @keys_app.command("list")
    def keys_list(ctx: typer.Context) -> None:
        """List API keys (prefix, owner, scope, status); never the keys themselves."""
        import pandas as pd

        from retain.state import users

        with _db(ctx) as db:
            rows = [{"prefix": k.prefix, "name": k.name, "user": u, "scope": k.scope,
                     "status": "revoked" if k.revoked_at else "active"} for k, u in users.list_keys(db)]
        show_frame(pd.DataFrame(rows, columns=["prefix", "name", "user", "scope", "status"]), "API keys")

    @keys_app.command("revoke")
    def keys_revoke(ctx: typer.Context, prefix: str = typer.Argument(..., help="The key's prefix.")) -> None:
        """Revoke an API key at once."""
        from retain.state import users

        with _db(ctx) as db:
            users.revoke_key(db, prefix, actor="cli")
        console.print(f"key {prefix} revoked")


def serve_dashboard(wh_db: str, host: str = "127.0.0.1", port: int = 8000, demo_login: bool = True) -> None:
    """What `retain demo` ends with: publish snapshots, create demo users, print the sign-in, serve."""
    import uvicorn

    from retain.jobs.publish import prepare_demo
    from retain.server import serve as workers_serve
    from retain.server.app import create_app
    from retain.server.settings import Settings
    from retain.state.db import default_url

    workers_serve.check_port(host, port)  # before publishing: a taken port is the likeliest failure of a demo
    settings = Settings(warehouse=wh_db, dev=True,
                        secret_key=os.environ.get("RETAIN_SECRET_KEY") or secrets.token_urlsafe(32))
    setup = prepare_demo(wh_db, settings.database_url or default_url(wh_db))
    console.print(f"published {setup.published.accounts:,} accounts as of {setup.published.as_of} to "
                  f"{default_url(wh_db)}")
    console.rule("[bold]Retain dashboard[/bold]")
    console.print(f"open [bold]http://{host}:{port}[/bold] and sign in with:")
    for login in setup.logins:
        console.print(f"  user [bold]{login.username}[/bold]  password [bold]{login.password}[/bold]   {login.label}")
    console.print("(Ctrl+C stops the server)")
    hint = ", ".join(f"{x.username} / {x.password}" for x in setup.logins) if demo_login else None
    application = create_app(settings.model_copy(update={"demo_login": hint}))
    workers_serve.settle_heap()
    uvicorn.run(application, host=host, port=port, log_level="warning", timeout_keep_alive=workers_serve.KEEP_ALIVE,
                **workers_serve.proxy_options(settings.trusted_proxies))
