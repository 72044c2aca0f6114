"""Configuration read from environment variables, each with a documented default.

This module is imported by the app, the CLI and the tests alike, so it must not import
Flask. Every setting is listed in README.md under "Configuration".
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
# The names of local serving: the only hosts trusted when neither a base URL nor allowed hosts are set.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://user@host/db`` form and pick the psycopg 3 driver.

    Args:
        url: a database URL as a person would write it.

    Returns:
        The SQLAlchemy URL with an explicit driver for PostgreSQL.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Config:
    """Settings of one marketplace process."""

    # Secrets never appear in the printed form (logs, tracebacks, test failures).
    database_url: str = field(repr=False)
    secret_key: str = field(repr=False)
    instance_dir: Path
    index_dir: Path
    # The name of this server's search index replica (see README, "Several app servers");
    # unset: the host name and the index folder's path.
    index_replica: str | None = None
    smtp_url: str | None = field(default=None, repr=False)
    mail_sender: str = "marketplace@localhost"
    council_name: str = "Leicestershire County Council"
    service_name: str = "Social Value Marketplace"
    embedding_model: str | None = None
    # Where the built matcher is saved so that the next worker opens it instead of building
    # (MARKETPLACE_MATCHER_DIR; its vectors are memory-mapped, shared by the machine's workers).
    matcher_dir: Path | None = None
    secure_cookies: bool = False
    check_schema: bool = True
    testing: bool = False
    log_level: str = "INFO"
    # The address people use to reach the site, for links in e-mails. Set it in production:
    # without it links are built from the request's Host header.
    base_url: str | None = None
    # Host names requests may arrive under (MARKETPLACE_ALLOWED_HOSTS); any other Host header
    # gets 400. Empty: the host of base_url when it is set, else only local serving's names.
    allowed_hosts: tuple[str, ...] = ()
    rate_limits_enabled: bool = True
    # Where rate-limit counts are kept: memory (per process) unless a Redis URL is given.
    ratelimit_url: str | None = field(default=None, repr=False)
    # Calls allowed per bearer token (or per address without one) across the API.
    api_rate_limit: str = "600 per minute"
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: trust none).
    proxy_hops: int = 0
    # Where delivery evidence files are kept (None: ``evidence`` under the instance folder).
    evidence_dir: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        """Build the configuration from ``MARKETPLACE_*`` environment variables."""
        env = os.environ if environ is None else environ
        instance_dir = Path(env.get("MARKETPLACE_INSTANCE_DIR", str(DEFAULT_INSTANCE_DIR)))
        default_db = f"sqlite:///{instance_dir / 'marketplace.sqlite3'}"
        secret_key = env.get("MARKETPLACE_SECRET_KEY") or _instance_secret_key(instance_dir)
        return cls(
            database_url=normalise_database_url(env.get("MARKETPLACE_DATABASE_URL", default_db)),
            secret_key=secret_key,
            instance_dir=instance_dir,
            index_dir=Path(env.get("MARKETPLACE_INDEX_DIR", str(instance_dir / "search-index"))),
            index_replica=env.get("MARKETPLACE_INDEX_REPLICA") or None,
            smtp_url=env.get("MARKETPLACE_SMTP_URL") or None,
            mail_sender=env.get("MARKETPLACE_MAIL_SENDER", "marketplace@localhost"),
            council_name=env.get("MARKETPLACE_COUNCIL_NAME", "Leicestershire County Council"),
            embedding_model=env.get("MARKETPLACE_EMBEDDING_MODEL") or None,
            matcher_dir=Path(env["MARKETPLACE_MATCHER_DIR"]) if env.get("MARKETPLACE_MATCHER_DIR") else None,
            secure_cookies=_flag(env.get("MARKETPLACE_SECURE_COOKIES", "0")),
            log_level=env.get("MARKETPLACE_LOG_LEVEL", "INFO").upper(),
            base_url=(env.get("MARKETPLACE_BASE_URL") or "").rstrip("/") or None,
            allowed_hosts=tuple(h.strip() for h in env.get("MARKETPLACE_ALLOWED_HOSTS", "").split(",") if h.strip()),
            rate_limits_enabled=_flag(env.get("MARKETPLACE_RATELIMIT_ENABLED", "1")),
            ratelimit_url=env.get("MARKETPLACE_RATELIMIT_URL") or None,
            api_rate_limit=_rate_limit(env.get("MARKETPLACE_API_RATE_LIMIT", "600 per minute")),
            proxy_hops=_whole_number(env.get("MARKETPLACE_PROXY_HOPS", "0"), "MARKETPLACE_PROXY_HOPS"),
            evidence_dir=Path(env["MARKETPLACE_EVIDENCE_DIR"]) if env.get("MARKETPLACE_EVIDENCE_DIR") else None,
        )

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """The host names requests may use: those configured, the base URL's, or local serving's.

        Links in e-mails are built from the request's host when no base URL is set, so without
        this a forged ``Host`` header would send a reset link to another site.
        """
        hosts = list(self.allowed_hosts)
        if self.base_url:
            hosts.append(urlsplit(self.base_url).hostname or "")
        return tuple(h for h in hosts if h) or LOCAL_HOSTS

    @property
    def evidence_path(self) -> Path:
        """Where delivery evidence files are kept: outside the static folder, never served directly."""
        return self.evidence_dir if self.evidence_dir is not None else self.instance_dir / "evidence"

    def with_overrides(self, **changes: object) -> Config:
        """Return a copy with some settings changed (used by tests and the CLI)."""
        return replace(self, **changes)


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _rate_limit(value: str) -> str:
    # Checked here so a typo stops the start-up with a message, not every API call later.
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as error:
        raise ValueError(
            f"MARKETPLACE_API_RATE_LIMIT must read like '600 per minute' or '10/second' (got {value!r})"
        ) from error
    return value


def _whole_number(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more (got {value!r})")
    return number


def _instance_secret_key(instance_dir: Path) -> str:
    """Keep a random secret key in the instance folder so sessions survive restarts.

    A deployment should set ``MARKETPLACE_SECRET_KEY``; this keeps the local demo working
    without one and without a hard-coded key.
    """
    key_file = instance_dir / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        instance_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
