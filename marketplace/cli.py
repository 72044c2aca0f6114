"""The ``marketplace`` command: set up the database, load demo data, serve, manage users and tokens.

Commands call the same services as the web pages and the API, and commit once each.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session
from tqdm import tqdm

from marketplace.clock import council_today
from marketplace.config import Config
from marketplace.db import make_engine, make_session_factory
from marketplace.logging_setup import configure_logging
from marketplace.schema import SchemaError, upgrade
from marketplace.services.errors import DomainError, ServiceUnavailable, ValidationFailed
from marketplace.services.notifications import use_site_url

# Below this many items a single indexing process is quicker than forking workers.
PARALLEL_REBUILD_FROM = 5000


class Context:
    """Configuration and a lazily created engine for one CLI run."""

    def __init__(self) -> None:
        self.config = Config.from_env()
        configure_logging("WARNING")
        self._engine = None
        # Where links in the e-mails a command queues point (MARKETPLACE_BASE_URL; unset: the
        # local address, or the one `demo` serves at).
        self.site_url: str | None = self.config.base_url

    @property
    def engine(self):
        """The database engine."""
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed once at the end, rolled back on any error."""
        factory = make_session_factory(self.engine)
        with factory() as session:
            use_site_url(session, self.site_url)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


pass_context = click.make_pass_decorator(Context, ensure=True)


def _fail(error: DomainError) -> None:
    if isinstance(error, ValidationFailed):
        for field, message in error.fields.items():
            click.echo(f"Error: {field}: {message}", err=True)
    else:
        click.echo(f"Error: {error.message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Social Value Marketplace: community needs, supplier offers and social value.

    Configuration comes from environment variables (MARKETPLACE_DATABASE_URL,
    MARKETPLACE_SECRET_KEY, MARKETPLACE_INDEX_DIR, ...): see README.md.
    """


@main.command()
@pass_context
def init(ctx: Context) -> None:
    """Create or upgrade the database schema and add missing reference data.

    Safe to run again: existing data and officers' edits to the reference lists are kept.
    """
    from marketplace.services.reference import seed_reference_data

    try:
        upgrade(ctx.engine)
    except SchemaError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    with ctx.session() as session:
        added = seed_reference_data(session)
    click.echo(
        f"Database ready at {ctx.engine.url.render_as_string(hide_password=True)} ({added} reference rows added)."
    )


def _serve(ctx: Context, host: str, port: int) -> None:
    from marketplace.app import create_app

    try:
        app = create_app(ctx.config)
    except SchemaError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Serving the marketplace at http://{host}:{port}/  (press Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, threaded=True, use_reloader=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@pass_context
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the marketplace locally (use gunicorn in production: see README)."""
    _serve(ctx, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Only initialise and load the demo data.")
@click.pass_context
def demo(click_ctx: click.Context, host: str, port: int, no_serve: bool) -> None:
    """Initialise the database, load demo data and serve it, printing the demo sign-ins."""
    from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_data

    ctx = click_ctx.ensure_object(Context)
    # The demo's e-mails (pledges made while loading) link to the site being served.
    local_host = "localhost" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
    ctx.site_url = ctx.config.base_url or f"http://{local_host}:{port}"
    click_ctx.invoke(init)
    with ctx.session() as session:
        loaded = load_demo_data(session, council_today())
    click.echo("Demo data loaded." if loaded else "Demo data was already loaded.")

    def sign_ins() -> None:
        click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
        for account in DEMO_ACCOUNTS:
            click.echo(f"  {account.role:<10} {account.email:<28} {account.organisation}")
        click.echo(f"\nOpen http://{host}:{port}/ in your browser. Press Ctrl+C to stop.\n")

    if no_serve:
        sign_ins()
        return
    from werkzeug.serving import make_server

    from marketplace.app import create_app

    try:
        app = create_app(ctx.config)
    except SchemaError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    server = make_server(host, port, app, threaded=True)
    # The background work of a fresh start (building the search index, writing the demo's
    # e-mails to the log, loading the matcher's model) logs as it goes: do it now, so the
    # address and the sign-ins are the last lines on the screen, not lost above the logs.
    state = app.extensions["marketplace"]
    state.search.drain()
    state.mail.drain()
    for thread in threading.enumerate():
        if thread.name == "matcher-warm-up":
            thread.join(timeout=300)
    sign_ins()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


@main.command("expire-needs")
@pass_context
def expire_needs(ctx: Context) -> None:
    """Mark open needs past their needed-by date as expired (run daily from a scheduler)."""
    from marketplace.services.needs import expire_overdue_needs

    with ctx.session() as session:
        count = expire_overdue_needs(session, council_today())
    click.echo(f"{count} needs expired.")


@main.command("remind-deliveries")
@pass_context
def remind_deliveries(ctx: Context) -> None:
    """Email suppliers whose approved pledges are due within a week or overdue (run daily from a scheduler).

    Each pledge is reminded about at most once a week. The emails are then sent as
    `send-notifications` does.
    """
    from marketplace.services.chasing import send_due_reminders

    def remind(session: Session) -> str:
        run = send_due_reminders(session, council_today())
        return f"{run.due_soon} reminders of pledges due within a week, {run.overdue} of overdue pledges."

    _queue_emails(ctx, remind)
    _send_mail(ctx)


@main.command()
@pass_context
def purge(ctx: Context) -> None:
    """Delete what the privacy notice says is kept no longer (run daily from a scheduler).

    Emails sent more than 90 days ago, emails that could not be sent for 30 days, the
    erased email records of accounts closed 30 days ago, registrations never confirmed
    within 30 days, API tokens revoked 30 days ago and feedback older than two years.
    """
    from marketplace.db import utcnow
    from marketplace.services.retention import purge as purge_records

    with ctx.session() as session:
        counts = purge_records(session, utcnow())
    click.echo(counts.describe())


def _search_index(ctx: Context):
    from search_index import SearchIndex

    return SearchIndex(ctx.config.index_dir, create=False)


@main.command()
@pass_context
def reindex(ctx: Context) -> None:
    """Rebuild the search index and store matching vectors, with progress bars.

    The new index is built beside the old one and swapped in, so search keeps working
    while it runs. Vectors are encoded only for texts that changed or were never
    encoded with the configured model.
    """
    from marketplace.search.documents import count_listings
    from marketplace.search.sync import rebuild
    from marketplace.suggestions.engine import SuggestionEngine

    factory = make_session_factory(ctx.engine)
    with factory() as session:
        total = count_listings(session)
    with tqdm(total=total, desc="Indexing needs and offers", unit="item") as bar:
        # Large rebuilds use one indexing process per core (a CLI process can safely fork).
        workers = min(2, os.cpu_count() or 1) if total > PARALLEL_REBUILD_FROM else 1
        rebuild(
            factory,
            _search_index(ctx),
            progress=lambda done: bar.update(done - bar.n),
            workers=workers,
            replica=ctx.config.index_replica,
        )
    click.echo(f"Search index rebuilt at {ctx.config.index_dir} ({total} needs and offers).")
    engine = SuggestionEngine(factory, ctx.config.embedding_model)
    try:
        with tqdm(total=total, desc="Embedding needs and offers", unit="item") as bar:
            encoded = engine.embed_all(progress=bar.update)
    except ServiceUnavailable as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"Vectors stored for matching with {engine.model_name} ({encoded} newly encoded).")


@main.command("evaluate-matching")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--k", "k", default=10, show_default=True, type=click.IntRange(min=1), help="Length of each suggestion list."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@pass_context
def evaluate_matching(ctx: Context, file: str, k: int, as_json: bool) -> None:
    """Score the matcher on an evaluation set (format: docs/EVALUATION.md).

    Prints recall@5, recall@10, MRR, nDCG@10, no-match accuracy and false no-match rate
    for the hybrid matcher and three baselines computed in the same run: lexical only,
    semantic only, and a plain fused reference. Then fair exposure, with the fairness term
    and without it: the share of needs in at least one supplier's top k, the Gini
    coefficient of that exposure, and the share of needs pledged to when each supplier in
    turn pledges to its best suggestion.
    """
    import json

    from matching import ModelUnavailable
    from matching.evaluation import DatasetError, format_fairness, format_table, run_evaluation, run_fairness

    try:
        model = ctx.config.embedding_model
        results = run_evaluation(file, k=k, **({"encoder": model} if model else {}))
        fairness = run_fairness(file, k=k, **({"encoder": model} if model else {}))
    except (DatasetError, ModelUnavailable, ValueError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps({**results, "fairness": fairness}, indent=2))
    else:
        click.echo(format_table(results) + "\n\n" + format_fairness(fairness))


@main.command("check-index")
@click.option("--fix", is_flag=True, help="Add missing items, refresh stale ones and remove extra ones.")
@pass_context
def check_index(ctx: Context, fix: bool) -> None:
    """Report needs and offers missing from or stale in the search index (exit 1 if any)."""
    from marketplace.search.sync import check
    from search_index import IndexUnavailable, SearchIndexError

    try:
        report = check(make_session_factory(ctx.engine), _search_index(ctx), fix=fix)
    except IndexUnavailable as error:
        click.echo(f"Error: {error}. Run `marketplace reindex` to rebuild it.", err=True)
        sys.exit(1)
    except (SearchIndexError, OSError) as error:
        # A full or read-only disk: say so rather than print a traceback.
        click.echo(f"Error: cannot update the search index at {ctx.config.index_dir}: {error}", err=True)
        sys.exit(1)
    click.echo(f"Checked {report.checked} needs and offers.")
    for label, keys in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra)):
        shown = ", ".join(sorted(keys)[:20]) + (" …" if len(keys) > 20 else "")
        click.echo(f"  {label}: {len(keys)}" + (f" ({shown})" if keys else ""))
    if fix and not report.ok:
        click.echo("Fixed.")
    elif not report.ok:
        click.echo("Run `marketplace check-index --fix` (or `marketplace reindex`) to repair.")
        sys.exit(1)


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["community", "supplier", "officer"]), help="What the person does."
)
@click.option("--organisation", required=True, help="Organisation name; created (unverified) if new.")
@click.option("--name", default="", help="The person's name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (prompted for when not given).",
)
@pass_context
def create_user(ctx: Context, email: str, role: str, organisation: str, name: str, password: str) -> None:
    """Create a user EMAIL in an organisation."""
    from marketplace.services.accounts import create_user as create

    try:
        with ctx.session() as session:
            user = create(session, email=email, role=role, organisation_name=organisation, password=password, name=name)
            state = "verified" if user.organisation.verified else "not yet verified"
            message = f"Created {user.email} ({role}) in {user.organisation.name} ({state})."
    except DomainError as error:
        _fail(error)
    click.echo(message)


@main.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="A name to recognise the token by.")
@pass_context
def create_token(ctx: Context, email: str, name: str) -> None:
    """Create an API token for EMAIL and print it (alone, on the last line). It is shown only once."""
    from marketplace.services.accounts import create_token as create
    from marketplace.services.accounts import get_user_by_email

    try:
        with ctx.session() as session:
            _, plain = create(session, get_user_by_email(session, email), name)
    except DomainError as error:
        _fail(error)
    click.echo(f"API token for {email} (store it safely; it is not shown again):")
    click.echo(plain)


def _queue_emails(ctx: Context, queue: Callable[[Session], str]) -> None:
    """Queue a command's emails in one transaction and say what was queued (``queue`` returns it).

    When a part of the service it needs is unavailable (the matching model), nothing is
    queued: the error is said and the command exits 1.
    """
    try:
        with ctx.session() as session:
            said = queue(session)
    except ServiceUnavailable as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    click.echo(said)


def _send_mail(ctx: Context) -> None:
    from marketplace.mail import MailConfigError, send_due

    try:
        report = send_due(make_session_factory(ctx.engine), ctx.config)
    except MailConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"{report.sent} emails sent, {report.failed} failed (kept to retry later).")
    if report.failed:
        sys.exit(1)


@main.command("send-notifications")
@pass_context
def send_notifications(ctx: Context) -> None:
    """Send the emails that are due, retrying failed ones whose wait is over (run every few minutes).

    Uses MARKETPLACE_SMTP_URL, or writes the emails to the log when it is not set.
    Exits 1 when some could not be sent; they stay queued for the next run.
    """
    _send_mail(ctx)


def _check_base_url(base_url: str) -> None:
    if not base_url.startswith(("http://", "https://")):
        click.echo("Error: --base-url must start with http:// or https://", err=True)
        sys.exit(1)


@main.command("send-digests")
@click.option(
    "--base-url",
    envvar="MARKETPLACE_BASE_URL",
    default="http://localhost:5000",
    show_default=True,
    help="The site's address, for the links in the emails (or set MARKETPLACE_BASE_URL).",
)
@pass_context
def send_digests(ctx: Context, base_url: str) -> None:
    """Email each supplier the new needs that fit their open offers well, in one daily digest,
    and each group member who asked for it the new offers that fit their open needs (daily or weekly).

    Run once a day from a scheduler. Suppliers who switched the digest off, and those with
    nothing new that fits, get no email. The emails are then sent as `send-notifications` does.
    """
    from marketplace.db import utcnow
    from marketplace.services.digest import send_digests as queue_digests
    from marketplace.services.digest import send_offer_alerts
    from marketplace.suggestions.engine import SuggestionEngine

    _check_base_url(base_url)
    engine = SuggestionEngine(make_session_factory(ctx.engine), ctx.config.embedding_model)

    def digests(session: Session) -> str:
        report = queue_digests(
            session,
            engine,
            base_url=base_url,
            now=utcnow(),
            today=council_today(),
            service_name=ctx.config.service_name,
        )
        return f"{report.emails} digests queued for {report.suppliers} suppliers ({report.needs_listed} needs listed)."

    def alerts(session: Session) -> str:
        queued = send_offer_alerts(session, engine, base_url=base_url, now=utcnow(), today=council_today())
        return f"{queued} alerts of fitting offers queued for groups."

    _queue_emails(ctx, digests)
    _queue_emails(ctx, alerts)
    _send_mail(ctx)


@main.command("send-summaries")
@click.option(
    "--base-url",
    envvar="MARKETPLACE_BASE_URL",
    default="http://localhost:5000",
    show_default=True,
    help="The site's address, for the links in the emails (or set MARKETPLACE_BASE_URL).",
)
@pass_context
def send_summaries(ctx: Context, base_url: str) -> None:
    """Email the people who chose a daily summary one email gathering what happened since the last,
    and each saved search whose day or week is over the new needs or offers that match it.

    Run once a day from a scheduler. People who chose an email for each event get theirs at
    once, and those who chose essential emails only get no summary. A saved search with
    nothing new sends nothing. The emails are then sent as `send-notifications` does.
    """
    from marketplace.db import utcnow
    from marketplace.services.notifications import send_daily_summaries
    from marketplace.services.saved_searches import send_saved_searches

    _check_base_url(base_url)

    def summaries(session: Session) -> str:
        use_site_url(session, base_url)
        count = send_daily_summaries(session)
        # Saved searches find what the search page finds (read only; the database stands in without an index).
        searches = send_saved_searches(session, base_url=base_url, now=utcnow(), index=_search_index(ctx))
        return f"{count} daily summaries queued.\n{searches} emails of saved searches' new results queued."

    _queue_emails(ctx, summaries)
    _send_mail(ctx)


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def export_(ctx: Context, file: Path) -> None:
    """Write the whole database to FILE.json: every table, row and id, for a backup or a move.

    The file is the same, byte for byte, for the same data, and `marketplace import` loads
    it into a new, empty database (SQLite or PostgreSQL) at the same schema revision.
    Delivery evidence files are not in it: the evidence_file rows name them, and the command
    says which folder (MARKETPLACE_EVIDENCE_DIR) to copy beside the file.
    """
    from marketplace.services.data_transfer import DataTransferError, export_database

    started = time.monotonic()
    try:
        with tqdm(desc="Exporting rows", unit="row") as bar:
            summary = export_database(
                ctx.engine, file, progress=bar.update, on_total=lambda total: setattr(bar, "total", total)
            )
    except DataTransferError as error:
        _fail(error)
    size = file.stat().st_size
    click.echo(
        f"Exported {summary.total} rows of {len(summary.rows)} tables at schema revision {summary.revision} "
        f"to {file} ({size / 1_000_000:.1f} MB in {time.monotonic() - started:.1f} s)."
    )
    evidence = summary.rows.get("evidence_file", 0)
    click.echo(
        f"{evidence} delivery evidence files are not in the export: they are in {ctx.config.evidence_path}. "
        "Copy that folder with the export, and set MARKETPLACE_EVIDENCE_DIR to it where you import."
    )


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-reindex", is_flag=True, help="Do not rebuild the search index afterwards.")
@pass_context
def import_(ctx: Context, file: Path, no_reindex: bool) -> None:
    """Load FILE.json, written by `marketplace export`, into a new, empty database.

    Creates the schema when the database has none. All or nothing: a file that is damaged,
    from another schema revision, or a database that already has data is refused and
    nothing is written. Then rebuilds the search index; the matching vectors come with the
    file.
    """
    from marketplace.search.documents import all_documents
    from marketplace.services.data_transfer import DataTransferError, import_database

    try:
        with tqdm(desc="Checking and importing rows", unit="row") as bar:
            summary = import_database(
                ctx.engine, file, progress=bar.update, on_total=lambda total: setattr(bar, "total", total)
            )
    except DataTransferError as error:
        _fail(error)
    click.echo(f"Imported {summary.total} rows of {len(summary.rows)} tables at schema revision {summary.revision}.")
    if no_reindex:
        click.echo("Run `marketplace reindex` before serving, so search finds the imported needs and offers.")
        return
    total = summary.rows.get("need", 0) + summary.rows.get("offer", 0)
    index = _search_index(ctx)
    # Not search.sync.rebuild: that registers this server's index replica in the database, and the
    # imported rows should stay exactly as exported. The folder records no replica position, so
    # the app rebuilds it once more at its first start (see marketplace.search.replicas).
    with (
        tqdm(total=total, desc="Indexing needs and offers", unit="item") as bar,
        make_session_factory(ctx.engine)() as session,
    ):
        workers = min(2, os.cpu_count() or 1) if total > PARALLEL_REBUILD_FROM else 1
        index.rebuild(all_documents(session), progress=lambda done: bar.update(done - bar.n), workers=workers)
    click.echo(f"Search index rebuilt at {ctx.config.index_dir} ({total} needs and offers).")


def _performance_tools() -> None:
    """Make the performance tooling (``benchmarks/perf`` in the source checkout) importable.

    It is not part of the product a council runs, so the installed package does not carry it:
    ``bench``, ``generate`` and ``loadtest`` work from a checkout (an editable install).
    """
    try:
        import benchmarks.perf  # noqa: F401
    except ImportError:
        checkout = Path(__file__).resolve().parents[1]
        if not (checkout / "benchmarks" / "perf" / "__init__.py").is_file():
            click.echo(
                "Error: the performance tools live in benchmarks/ of the source checkout; run this command "
                "from a checkout installed with `pip install -e .`.",
                err=True,
            )
            sys.exit(2)
        sys.path.insert(0, str(checkout))


@main.command()
@click.option(
    "--database-url",
    default=None,
    help="An existing PostgreSQL database to use (migrated, and kept). Default: a fresh one on --server.",
)
@click.option(
    "--server",
    "server_url",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="The PostgreSQL server where the fresh database is created, and dropped afterwards.",
)
@click.option("--users", default=50, show_default=True, type=click.IntRange(1, 1000), help="Simulated users.")
@click.option("--duration", default=60.0, show_default=True, type=click.FloatRange(1, 3600), help="Seconds of use.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="gunicorn workers.")
@click.option(
    "--seed-items", default=300, show_default=True, type=click.IntRange(0), help="Needs and offers loaded first."
)
@click.option("--keep", is_flag=True, help="Keep the database, the search index and the server log.")
def loadtest(
    database_url: str | None, server_url: str, users: int, duration: float, workers: int, seed_items: int, keep: bool
) -> None:
    """Load and soak test on PostgreSQL: simulated users against gunicorn on loopback.

    Users sign in, browse, search, post needs and offers (web forms and API) and pledge; at
    the end every successful write must be in the database and the search index. Exits 1 on
    any 5xx, failed connection or missing write.
    """
    import signal

    _performance_tools()
    from benchmarks.perf.loadtest import run_loadtest

    # A plain kill stops the run like Ctrl-C: servers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = run_loadtest(
            database_url=database_url,
            server_url=server_url,
            users=users,
            duration=duration,
            workers=workers,
            seed_items=seed_items,
            keep=keep,
        )
    except ValueError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    click.echo(report.table())
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option("--items", required=True, type=click.IntRange(1, 1_000_000), help="How many needs and offers to add.")
@click.option("--seed", default=2026, show_default=True, type=int, help="The same seed gives the same data.")
@pass_context
def generate(ctx: Context, items: int, seed: int) -> None:
    """Fill the configured database with synthetic organisations, needs, offers and pledges.

    For load and performance tests. Everything goes through the services: vectors are
    encoded in batches and the search index is updated after each chunk, with a progress
    bar. Run `marketplace init` first; the accounts' password is printed at the end.
    """
    _performance_tools()
    from benchmarks.perf.synthetic import PASSWORD
    from benchmarks.perf.synthetic import generate as generate_items
    from marketplace.suggestions.engine import SuggestionEngine
    from search_index import SearchIndex

    factory = make_session_factory(ctx.engine)
    engine = SuggestionEngine(factory, ctx.config.embedding_model)
    index = SearchIndex(ctx.config.index_dir)
    try:
        report = generate_items(factory, index, engine, items, today=council_today(), seed=seed)
    except ServiceUnavailable as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    finally:
        index.close()
    click.echo(
        f"Added {report.needs} needs, {report.offers} offers, {report.organisations} organisations and "
        f"{report.pledges} pledges in {report.seconds:.0f} s ({report.items / report.seconds:,.0f} items/s)."
    )
    click.echo(f"Synthetic accounts (group0@synthetic.example.org, supplier0@…) use the password {PASSWORD}")


@main.command()
@click.option("--quick", is_flag=True, help="1k and 10k items only (under 5 minutes); targets judged at 10k.")
@click.option("--json", "as_json", is_flag=True, help='Print {"results": [...]} instead of the table.')
@click.option("--items", type=click.IntRange(50), default=None, hidden=True, help="One small size (tests).")
@click.option("--no-web", is_flag=True, hidden=True, help="Skip the gunicorn figures (tests).")
@click.option("--web-seconds", type=click.FloatRange(1), default=20, hidden=True, help="Seconds per page.")
@click.option("--save", type=click.Path(dir_okay=False), default=None, help="Also write the JSON to this file.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    default=None,
    help="Build the databases and indexes in this folder and keep them (for profiling); default: a temporary one.",
)
@pass_context
def bench(
    ctx: Context,
    quick: bool,
    as_json: bool,
    items: int | None,
    no_web: bool,
    web_seconds: float,
    save: str | None,
    keep: str | None,
) -> None:
    """Measure suggestions, search, bulk load, web pages and memory, each beside a same-run yardstick.

    At 10k items it also reports fair exposure (the share of open needs in some supplier's
    top 10, and its Gini) beside the same figures without the fairness term.

    Builds its own databases and indexes in a temporary folder (the configured database
    is not touched) at 1k, 10k and 100k items (--quick: 1k and 10k). The last row is the
    run's own wall clock against its budget (5 minutes for --quick, 20 for the full run).
    Progress goes to standard error; see docs/PERFORMANCE.md for what each figure compares.
    The vectors of the synthetic texts are kept between runs in $MARKETPLACE_BENCH_CACHE
    (default ~/.cache/marketplace-bench), so only the first run encodes the corpus.
    """
    _performance_tools()
    from benchmarks.perf import bench as suite
    from benchmarks.perf.results import results_json, results_table

    sizes = (items,) if items else suite.QUICK_SIZES if quick else suite.FULL_SIZES
    # The time budget applies to the standard runs as specified (20-s web runs).
    standard = not items and not no_web and web_seconds == 20
    budget = (suite.QUICK_BUDGET_MINUTES if quick else suite.FULL_BUDGET_MINUTES) if standard else None
    results = suite.run_bench(
        sizes,
        web=not no_web,
        model=ctx.config.embedding_model,
        web_duration=web_seconds,
        budget_minutes=budget,
        workdir=Path(keep) if keep else None,
    )
    if save:
        Path(save).write_text(results_json(results) + "\n", encoding="utf-8")
    click.echo(results_json(results) if as_json else results_table(results))
