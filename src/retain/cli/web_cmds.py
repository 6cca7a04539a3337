"""``retain serve``, ``retain users``, ``retain keys``, ``retain db upgrade`` and ``retain publish``."""

from __future__ import annotations

import os
import secrets
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


@contextmanager
def _db(ctx: typer.Context):
    from retain.state.db import default_url, make_engine, session_factory, upgrade

    settings = _settings(ctx, dev=True)
    engine = make_engine(settings.database_url or default_url(settings.warehouse))
    upgrade(engine)
    with session_factory(engine)() as db:
        yield db
    engine.dispose()


def publish_snapshots(ctx: typer.Context, as_of: str | None = None):
    from retain.cli.clock import chosen_day
    from retain.state.publish import publish as run_publish

    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    with _db(ctx) as db:
        run = run_publish(wh, db, day)
        found = sorted(k for k, v in (run.sources or {}).items() if v)
        console.print(f"published {run.accounts:,} accounts as of {run.as_of}; results used: "
                      f"{', '.join(found) or 'none yet'}")
        return run


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
        from retain.state.db import current_revision, default_url, make_engine, upgrade

        settings = _settings(ctx, dev=True)
        url = settings.database_url or default_url(settings.warehouse)
        engine = make_engine(url)
        upgrade(engine)
        console.print(f"application database at revision {current_revision(engine)}: {engine.url!r}")

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
        from sqlalchemy import select

        from retain.state import users
        from retain.state.models import User

        with _db(ctx) as db:
            user = db.scalar(select(User).where(User.username == username))
            if user is None:
                raise RetainError(f"no user '{username}'", hint="see `retain users list`")
            key, row = users.create_key(db, user, name, scope, actor="cli")
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


def _demo_people(db) -> dict[str, str | None]:
    """A manager with reports and a CSM/rep who owns accounts, from the published team and snapshots."""
    from sqlalchemy import func, select

    from retain.state.models import AccountSnapshot, TeamMember

    owner = db.scalar(select(AccountSnapshot.owner_id).where(AccountSnapshot.owner_id.is_not(None))
                      .group_by(AccountSnapshot.owner_id).order_by(func.count().desc()).limit(1))
    manager = None
    if owner is not None:
        manager = db.scalar(select(TeamMember.manager_id).where(TeamMember.member_id == owner))
    if manager is None:
        manager = db.scalar(select(TeamMember.manager_id).where(TeamMember.manager_id.is_not(None)).limit(1))
    return {"member": owner, "manager": manager}


def serve_dashboard(wh_db: str, host: str = "127.0.0.1", port: int = 8000, demo_login: bool = True) -> None:
    """What `retain demo` ends with: publish snapshots, create demo users, print the sign-in, serve."""
    import uvicorn
    from sqlalchemy import select

    from retain.server import serve as workers_serve
    from retain.server.app import create_app
    from retain.server.settings import Settings
    from retain.state import users
    from retain.state.db import default_url, make_engine, session_factory, upgrade
    from retain.state.models import User
    from retain.state.publish import publish as run_publish
    from retain.warehouse import Warehouse

    workers_serve.check_port(host, port)  # before publishing: a taken port is the likeliest failure of a demo
    settings = Settings(warehouse=wh_db, dev=True,
                        secret_key=os.environ.get("RETAIN_SECRET_KEY") or secrets.token_urlsafe(32))
    engine = make_engine(settings.database_url or default_url(wh_db))
    upgrade(engine)
    wh = Warehouse.open(wh_db)
    logins: list[tuple[str, str, str]] = []
    with session_factory(engine)() as db:
        run = run_publish(wh, db)
        people = _demo_people(db)
        wanted = [("admin", "admin", None), ("manager", "manager", people["manager"]),
                  ("csm", "member", people["member"])]
        for username, role, member_id in wanted:
            if role != "admin" and not member_id:
                continue
            password = f"{username}-demo"
            if db.scalar(select(User).where(User.username == username)) is None:
                users.create_user(db, username, password, role, member_id=member_id, actor="demo")
            logins.append((username, password, role + (f" ({member_id})" if member_id else "")))
    wh.con.disconnect()
    engine.dispose()
    console.print(f"published {run.accounts:,} accounts as of {run.as_of} to {default_url(wh_db)}")
    console.rule("[bold]Retain dashboard[/bold]")
    console.print(f"open [bold]http://{host}:{port}[/bold] and sign in with:")
    for username, password, role in logins:
        console.print(f"  user [bold]{username}[/bold]  password [bold]{password}[/bold]   {role}")
    console.print("(Ctrl+C stops the server)")
    hint = ", ".join(f"{u} / {p}" for u, p, _ in logins) if demo_login else None
    application = create_app(settings.model_copy(update={"demo_login": hint}))
    workers_serve.settle_heap()
    uvicorn.run(application, host=host, port=port, log_level="warning", timeout_keep_alive=workers_serve.KEEP_ALIVE,
                **workers_serve.proxy_options(settings.trusted_proxies))
