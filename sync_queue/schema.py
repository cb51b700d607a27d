"""Tables PlexSync keeps beside persist-queue's intake table, in the same SQLite file.

persist-queue owns ``ack_queue_intake`` (what hooks append to); its format is pinned below (``CREATE_INTAKE``).
Delayed work is a ``not_before`` column read by due time.
"""

from __future__ import annotations

# 2: the intake table is created with the others (hooks insert into it directly); 3: clock-step columns;
# 4: sync figures (sync_stats, sync_seconds; see sync_queue.stats)
SCHEMA_VERSION = 4
DB_FILE = "plexsync.db"
INTAKE_NAME = "intake"

# persist-queue 1.1's SQLiteAckQueue table for INTAKE_NAME, exactly as it creates it. A hook inserts its row
# with one statement on the store's own connection instead of importing persist-queue (whose package import
# pulls in asyncio) and opening its two extra connections; the worker reads and acks the rows through
# persist-queue. requirements.txt pins persist-queue to 1.1.x and tests/sync_queue/test_persistqueue_contract.py
# fails if a release changes the table, its columns or these status values (persist-queue's AckStatus).
INTAKE_TABLE = "`ack_queue_intake`"
CREATE_INTAKE = (
    f"CREATE TABLE IF NOT EXISTS {INTAKE_TABLE} ("
    "_id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB, timestamp FLOAT, status INTEGER)"
)
INTAKE_NEW = 0  # AckStatus.inited: what put() writes; waiting to be taken
INTAKE_TAKEN = 2  # AckStatus.unack: a worker took it and has not acked it yet
INTAKE_ACKED = 5  # AckStatus.acked: absorbed; rows below it still carry work

# A scene has work pending while generation > done_generation. Every hook bumps generation; a finished
# attempt sets done_generation to the generation it claimed, so an edit that lands mid-sync stays pending.
CREATE_SCENES = """
CREATE TABLE IF NOT EXISTS scenes (
    scene_id            INTEGER PRIMARY KEY,
    generation          INTEGER NOT NULL DEFAULT 0,
    done_generation     INTEGER NOT NULL DEFAULT 0,
    claim_token         TEXT,
    claimed_generation  INTEGER,
    not_before          REAL    NOT NULL DEFAULT 0,
    attempts            INTEGER NOT NULL DEFAULT 0,
    lane                TEXT    NOT NULL DEFAULT 'normal',
    status              TEXT    NOT NULL DEFAULT 'new',
    last_error_class    TEXT,
    last_error          TEXT,
    rating_key          INTEGER,
    section_id          INTEGER,
    match_method        TEXT,
    push_record         TEXT,
    fingerprint         TEXT,
    stash_updated_at    TEXT,
    queued_at           REAL,
    synced_at           REAL
)"""
CREATE_SCENES_DUE_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_scenes_due ON scenes(not_before) WHERE generation > done_generation"
)
CREATE_SCENES_CLAIM_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_scenes_claim ON scenes(claim_token) WHERE claim_token IS NOT NULL"
)

CREATE_FANOUT = """
CREATE TABLE IF NOT EXISTS fanout (
    kind        TEXT    NOT NULL,
    object_id   TEXT    NOT NULL,
    not_before  REAL    NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    PRIMARY KEY (kind, object_id)
)"""

CREATE_DEAD_LETTERS = """
CREATE TABLE IF NOT EXISTS dead_letters (
    scene_id         INTEGER PRIMARY KEY,
    error_class      TEXT NOT NULL,
    message          TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    first_failed_at  REAL NOT NULL,
    last_failed_at   REAL NOT NULL
)"""

CREATE_PLEX_INDEX = """
CREATE TABLE IF NOT EXISTS plex_index (
    section_id    INTEGER NOT NULL,
    rating_key    INTEGER NOT NULL,
    path_key      TEXT    NOT NULL,
    basename_key  TEXT    NOT NULL,
    file          TEXT    NOT NULL,
    size          INTEGER,
    added_at      INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (section_id, rating_key, path_key)
)"""
CREATE_PLEX_INDEX_PATH = "CREATE INDEX IF NOT EXISTS ix_plex_index_path ON plex_index(path_key)"
CREATE_PLEX_INDEX_BASENAME = "CREATE INDEX IF NOT EXISTS ix_plex_index_base ON plex_index(basename_key)"

CREATE_KV = """
CREATE TABLE IF NOT EXISTS kv (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
)"""

# The lease row of the one-worker rule (worker.process.lease).
CREATE_LEASE = """
CREATE TABLE IF NOT EXISTS lease (
    name         TEXT PRIMARY KEY,
    token        TEXT NOT NULL,
    pid          INTEGER,
    acquired_at  REAL NOT NULL,
    expires_at   REAL NOT NULL,
    wake_port    INTEGER,
    handoff      INTEGER NOT NULL DEFAULT 0
)"""

# Schema 2: when a due time was set (a wall clock stepped back since then makes the work due now, instead of
# stretching its wait by the step) and the lease expiry on the monotonic clock (a wall clock stepped forward
# must not expire a live worker's lease). ALTERs run on new files and on schema-1 files alike.
ADD_SCENES_SCHEDULED_AT = "ALTER TABLE scenes ADD COLUMN scheduled_at REAL"
ADD_FANOUT_SCHEDULED_AT = "ALTER TABLE fanout ADD COLUMN scheduled_at REAL"
ADD_LEASE_EXPIRES_MONO = "ALTER TABLE lease ADD COLUMN expires_mono REAL"

# Schema 4: sync figures per run (scope = the run's lease token) and since install (scope 'total').
CREATE_SYNC_STATS = """
CREATE TABLE IF NOT EXISTS sync_stats (
    scope       TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    updated_at  REAL    NOT NULL,
    PRIMARY KEY (scope, name)
)"""
CREATE_SYNC_SECONDS = """
CREATE TABLE IF NOT EXISTS sync_seconds (
    scope      TEXT    NOT NULL,
    per_scene  REAL    NOT NULL,
    scenes     INTEGER NOT NULL
)"""
CREATE_SYNC_SECONDS_SCOPE = "CREATE INDEX IF NOT EXISTS ix_sync_seconds_scope ON sync_seconds(scope, per_scene)"

ALL_DDL = (
    CREATE_INTAKE,
    CREATE_SCENES,
    CREATE_SCENES_DUE_INDEX,
    CREATE_SCENES_CLAIM_INDEX,
    CREATE_FANOUT,
    CREATE_DEAD_LETTERS,
    CREATE_PLEX_INDEX,
    CREATE_PLEX_INDEX_PATH,
    CREATE_PLEX_INDEX_BASENAME,
    CREATE_KV,
    CREATE_LEASE,
    ADD_SCENES_SCHEDULED_AT,
    ADD_FANOUT_SCHEDULED_AT,
    ADD_LEASE_EXPIRES_MONO,
    CREATE_SYNC_STATS,
    CREATE_SYNC_SECONDS,
    CREATE_SYNC_SECONDS_SCOPE,
)

PENDING = "generation > done_generation"
# Due: its time came, or it was scheduled "in the future" (the wall clock stepped back since): due now.
CLOCK_SLACK_S = 2.0  # wall clocks of two processes on one machine agree closer than this
DUE = f"(not_before <= :now OR scheduled_at > :now + {CLOCK_SLACK_S})"

# Keys of the kv table that more than one room reads.
KV_SETTINGS_CACHE = "settings_cache"  # master switch + settle window, for processes that can't ask Stash
KV_WORKER_NOTICES = "worker_notices"  # what the detached worker wants shown once in Stash's log
KV_SPAWN_PAUSE = "spawn_paused_until"  # hooks don't start workers before this time (auth/config pause)
KV_LAST_PREVIEW = "last_preview"  # the newest Preview Sync result, for PlexSync's page in Stash
KV_PHOTOS_BLOCKED = "performer_photos_blocked"  # why performer photos are held back (worker.artwork.performer_photos)
KV_STORE_RESET = "store_reset"  # a damaged database was set aside: where it went, for tasks and status to tell
SPAWN_PAUSE_MAX_S = 300.0  # no spawn pause is set for longer (a later time came before a clock step)
