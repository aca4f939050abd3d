"""Configuration classes. Secrets come from the environment (prefix ASM_, e.g. ASM_SECRET_KEY)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-not-secret"
ROLES = frozenset({"admin", "owner", "clerk", "officer", "supervisor"})  # asm.accounts.models.Role


class Base:
    SECRET_KEY = DEV_SECRET
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{ROOT / 'instance' / 'asm.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}
    DB_PING_IDLE_S = 1.0  # a pooled connection idle this long is tested before use (asm/rawdb.py)
    MIGRATIONS_DIR = str(ROOT / "migrations")
    STATIC_VENDOR_DIR = str(ROOT / "node_modules")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_SSL_STRICT = True

    # Logins are server-side sessions (asm/accounts/sessions.py): logout, a password or role change and disabling
    # end them at once. A login ends after this long without a request (police roles and the platform admin:
    # officer, supervisor, admin; establishment roles: owner, clerk), and this long after it began whatever
    # happens. Last-seen is written at most once a minute per login, not on every request.
    SESSION_IDLE_MINUTES_POLICE = 30
    SESSION_IDLE_MINUTES_ESTABLISHMENT = 720
    SESSION_MAX_HOURS = 24
    SESSION_TOUCH_SECONDS = 60
    # Roles that must pass a second factor (TOTP) at every login; a comma-separated list. Dev/demo: none.
    REQUIRE_2FA_ROLES = "officer,supervisor,admin"
    TOTP_ISSUER = "ASM"
    LOGIN_PENDING_SECONDS = 300  # between the right password and the second factor
    # Login back-off per account (asm/accounts/defence.py): after LOGIN_BACKOFF_AFTER failures in a row, each
    # failure locks the account (for browsers it has not logged in from) for BASE × 2^(n - AFTER) seconds, at
    # most MAX; failures are forgotten a day after the last one. A browser the user logged in from has its own
    # count, so guesses from elsewhere never lock the officer out of their own terminal.
    LOGIN_BACKOFF_AFTER = 5
    LOGIN_BACKOFF_BASE_SECONDS = 30
    LOGIN_BACKOFF_MAX_SECONDS = 900
    LOGIN_STRIKES_FORGET_SECONDS = 86_400
    PASSWORD_MIN_LENGTH = 10  # for new passwords; they are also checked against a list of common passwords
    # Migrations (`flask db upgrade`) connect with this URL when set (the owner role, `flask db-roles setup`);
    # the app itself uses SQLALCHEMY_DATABASE_URI (the app role). From the environment: MIGRATION_DATABASE_URL.
    MIGRATION_DATABASE_URI = ""

    TRUSTED_PROXIES = 0  # reverse proxies in front whose X-Forwarded-For/-Proto/-Host are believed (asm/__init__)
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute"
    RATELIMIT_SCAN = "120 per minute"
    RATELIMIT_API = "6000 per minute"
    # Joining (issue 16): self-registration and password-reset requests per client address, and reset e-mails per
    # address asked for (so a stranger cannot flood someone's inbox); one-time links' lifetimes.
    RATELIMIT_REGISTER = "20 per hour"
    RATELIMIT_RESET = "10 per hour"
    RATELIMIT_RESET_PER_ADDRESS = "3 per hour"
    PASSWORD_RESET_MINUTES = 60
    INVITATION_DAYS = 7

    BABEL_DEFAULT_LOCALE = "vi"
    LANGUAGES = ("vi", "en")
    TIMEZONE = "Asia/Ho_Chi_Minh"

    # The notification rule (Luật Cư trú 2020 Art. 30; TT 55/2021 Art. 15): before 23:00 on the day of arrival,
    # before 08:00 next day for arrivals after 23:00. Settings, not constants, so a change of rule is config.
    NOTIFY_EVENING_CUTOFF = "23:00"
    NOTIFY_MORNING_DEADLINE = "08:00"
    LONG_STAY_DAYS = 30
    # Foreigners' temporary-residence declaration (Law 47/2014 Art. 33(2)): within 12 h of arrival, 24 h in remote
    # areas; which commune is remote is a flag per commune (`flask units remote`). DOMAIN.md marks the hours
    # unconfirmed: settings, see docs/FOREIGNERS.md.
    FOREIGN_DECLARATION_HOURS = 12
    FOREIGN_DECLARATION_REMOTE_HOURS = 24
    # Fine exposure of late or missing foreigners' declarations (asm/police/fines.py): brackets by guests like
    # POLICE_FINE_BRACKETS, and the legal basis printed with them. Unconfirmed: None keeps the documented defaults.
    FOREIGN_FINE_BRACKETS = None
    FOREIGN_FINE_LEGAL_BASIS = None

    # Devices that lose the server (docs/OFFLINE.md): how long a kiosk may check its staff PIN offline after it last
    # reached the server, the PIN's PBKDF2-SHA256 iterations (OWASP 2023: 600,000), and after how many minutes
    # without the server a device warns staff loudly that filings (and their deadlines) are waiting.
    OFFLINE_PIN_HOURS = 72
    OFFLINE_PIN_ITERATIONS = 600_000
    OFFLINE_WARN_MINUTES = 30

    MAX_IMAGE_BYTES = 8_000_000
    MAX_IMAGE_PIXELS = 12_000_000
    MAX_CONTENT_LENGTH = 10_000_000
    QR_DECODER = "zxing"

    TEMPLATES_STRICT = False
    # Pages load only this site's own scripts, styles and images, talk only to it, post forms only to it, and may
    # not be framed (asm/web/headers.py). The kiosk's camera is a MediaStream, which the policy does not govern.
    # 'wasm-unsafe-eval' lets the pages compile WebAssembly (the QR reader, zxing-wasm, served from this site); it
    # allows no eval of JavaScript.
    HSTS_SECONDS = 31_536_000  # a year of HTTPS only, sent on answers over HTTPS (0: never)
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    # On PostgreSQL, the API files one guest in one SQL statement (asm/filing/sql.py); False: always the ORM.
    API_SQL_FILING = True
    # How long a worker remembers a live API token for the one-statement filing, which checks it again in its
    # statement (asm/api/auth.py); 0: looked up on every request.
    API_TOKEN_CACHE_S = 60.0

    # Hospital information systems (asm/hospital/his, docs/HOSPITAL.md): FHIR identifier systems that hold a CCCD,
    # and the MLLP listener's limits (a message's size, an idle connection, how long a database outage is waited
    # out before a message is answered AR, how many messages one transaction files at most, and how long a group
    # waits for the next message of each open connection before its transaction starts).
    HIS_FHIR_CCCD_SYSTEMS = ("urn:vn:cccd",)
    MLLP_MAX_MESSAGE_BYTES = 1_000_000
    MLLP_IDLE_TIMEOUT_S = 600
    MLLP_DB_RETRY_S = 60
    MLLP_GROUP_MAX = 64
    MLLP_GROUP_WAIT_MS = 5
    MLLP_PROCESSES = 2  # listener processes of `flask hospital mllp` (asm/hospital/his/mllp.py, `serve`)

    # Outgoing e-mail (asm/mail.py): reminders, password resets, invitations. No MAIL_SERVER: mail is logged, not
    # sent (development). From the environment: ASM_MAIL_SERVER, ASM_MAIL_PORT, ...
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # TLS from the first byte (port 465)
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "ASM <no-reply@localhost>"
    MAIL_TIMEOUT_S = 10.0

    # Jobs (asm/jobs, README "Jobs"): the ledger is in the database; JOBS_QUEUE_URL is the queue that rings it:
    # empty = a SQLite file in instance/ (`make run`), redis://... in production (REDIS_URL sets it too).
    # "inline" runs each job in the process that enqueued it, once its transaction commits (tests, commands).
    JOBS_BACKEND = "huey"
    JOBS_QUEUE_URL = ""
    JOBS_LEASE_S = 120  # a running job renews it; a worker killed holds it this long at most, then the job is swept
    JOBS_RETRY_BASE_S = 30  # back-off after a failed attempt: 30 s, 60 s, 120 s, ... at most JOBS_RETRY_MAX_S
    JOBS_RETRY_MAX_S = 3600
    JOBS_RING_GRACE_S = 120  # a due job nobody took for this long had its bell lost: the sweeper rings again
    JOBS_SWEEP_BATCH = 500
    REPORT_FILE_HOURS = 24  # police report files (personal data) are deleted this long after they were made

    # Deadline reminders (asm/jobs/reminders.py): local times of the day an establishment with guests not yet
    # notified or past their expected departure is reminded (per establishment: its own list). A reminder missed
    # while no worker ran is still sent up to REMINDER_CATCHUP_MINUTES later, never twice.
    REMINDER_TIMES = "21:30,22:30,07:00"
    REMINDER_CATCHUP_MINUTES = 20
    # Web Push (RFC 8292 VAPID): `flask --app wsgi jobs vapid-keys` makes a pair. Empty: no push, e-mail only.
    VAPID_PRIVATE_KEY = ""
    VAPID_PUBLIC_KEY = ""
    VAPID_SUBJECT = "mailto:no-reply@localhost"
    PUSH_TIMEOUT_S = 10.0

    # Retention (asm/jobs/retention.py, README "Retention"): days each kind of data is kept, purged nightly at
    # RETENTION_PURGE_AT (Vietnam time) in batches. Stays and their history: 3 years, as Spain (Italy: 5); the law
    # (Luật Bảo vệ dữ liệu cá nhân 2025, in force 01/01/2026) asks for a limit set by purpose, DOMAIN.md.
    RETENTION_STAYS_DAYS = 3 * 365
    RETENTION_ACCESS_LOG_DAYS = 3 * 365  # who looked at whom: as long as what they looked at
    RETENTION_LOGINS_DAYS = 365
    RETENTION_IDEMPOTENCY_DAYS = 7
    RETENTION_JOBS_DAYS = 30
    RETENTION_REMINDERS_DAYS = 90
    RETENTION_BATCH = 2000  # rows (stays: groups) per transaction
    RETENTION_PAUSE_S = 0.2  # between batches: the purge yields the machine to filings (bench/purge.py)
    RETENTION_DUTY = 0.25  # and rests so that it works at most this share of its time (asm/jobs/purge.py `rest`)
    RETENTION_PURGE_AT = "02:30"
    POLICE_DIGEST_AT = "07:30"  # Vietnam time: the ward's overdue notifications to the police who opted in
    # PostgreSQL keeps the history by month (asm/jobs/partitions.py): the months made ahead (hourly job), the ids
    # a month's block holds (more than a month's stays and access-log lines: a national deployment ~20,000,000;
    # a full block flows into the next month's, harmless), how long the purge waits for a partition's lock.
    HISTORY_PARTITION_AHEAD = 2
    HISTORY_PARTITION_BLOCK = 1_000_000
    HISTORY_DROP_LOCK_TIMEOUT_S = 5.0
    # The purge connects with this URL when set (its own role, `flask db-roles setup --purge ...`): only it may
    # delete the append-only history. Empty: the app's own connection (SQLite, development).
    PURGE_DATABASE_URI = ""


class Dev(Base):
    SESSION_COOKIE_SECURE = False  # http://127.0.0.1 in development
    REQUIRE_2FA_ROLES = ""  # the demo's logins keep working with a password only (README)
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_SSL_STRICT = False
    TEMPLATES_STRICT = True


class Test(Dev):
    TESTING = True
    JOBS_BACKEND = "inline"
    SECRET_KEY = "test-secret"
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    OFFLINE_PIN_ITERATIONS = 1000  # the same code, quickly; the production figure is measured in docs/OFFLINE.md


class Prod(Base):
    SQLALCHEMY_DATABASE_URI = ""  # must come from ASM_SQLALCHEMY_DATABASE_URI or DATABASE_URL
    SECRET_KEY = ""


CONFIGS: dict[str, type[Base]] = {"dev": Dev, "test": Test, "prod": Prod}


def from_env() -> type[Base]:
    """Pick the config class named by ASM_ENV (dev by default); DATABASE_URL and SECRET_KEY are read here."""
    cls = CONFIGS[os.environ.get("ASM_ENV", "dev")]
    overrides: dict[str, Any] = {}
    if url := os.environ.get("DATABASE_URL"):
        overrides["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(url)
    if secret := os.environ.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = secret
    if migration_url := os.environ.get("MIGRATION_DATABASE_URL"):
        overrides["MIGRATION_DATABASE_URI"] = normalize_database_url(migration_url)
    if redis_url := os.environ.get("REDIS_URL"):
        overrides["RATELIMIT_STORAGE_URI"] = redis_url
        overrides["JOBS_QUEUE_URL"] = redis_url
    if purge_url := os.environ.get("PURGE_DATABASE_URL"):
        overrides["PURGE_DATABASE_URI"] = normalize_database_url(purge_url)
    return type(cls.__name__, (cls,), overrides) if overrides else cls


def normalize_database_url(url: str) -> str:
    """postgres:// and postgresql:// both mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def role_list(value: Any) -> frozenset[str]:
    """A setting that lists roles: "officer,supervisor" (as the environment gives it) or a list."""
    if not value:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(str(item).strip().lower() for item in items if str(item).strip())


def check(config: Any) -> None:
    """Production refuses to start without a real secret and database; a misspelt role in REQUIRE_2FA_ROLES
    stops any start (it would silently require nothing)."""
    unknown = role_list(config.get("REQUIRE_2FA_ROLES")) - ROLES
    if unknown:
        raise RuntimeError(f"REQUIRE_2FA_ROLES: unknown roles {sorted(unknown)}; roles are {sorted(ROLES)}")
    if config.get("TESTING") or config.get("DEBUG") or os.environ.get("ASM_ENV", "dev") != "prod":
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET or len(config["SECRET_KEY"]) < 32:
        raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        raise RuntimeError("DATABASE_URL must be set in production")
