-- The durable job queue of the webhook pipeline. A job analyses one trigger (`revision`: a
-- pull request head, a pushed commit, a tag) of one key (e.g. `acme/charts#pr/7`). At most one
-- job of a key is active (queued, deferred or running) at a time: enqueueing another revision
-- supersedes the active one. Times are unix milliseconds; `lease_until` is set while a worker
-- holds the job (from claim until it completes or fails it, or the lease expires).
-- AUTOINCREMENT: job ids are never reused, even after the newest job is deleted.
CREATE TABLE jobs (
    id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    job_key       TEXT    NOT NULL,
    repo          TEXT    NOT NULL,
    revision      TEXT    NOT NULL,
    payload       BLOB    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN
                      ('queued', 'deferred', 'running', 'succeeded', 'failed', 'superseded',
                       'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    run_at        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    locked_by     TEXT,
    lease_until   INTEGER,
    last_error    TEXT,
    -- A JSON array of the compare ids the job produced.
    compare_ids   TEXT    NOT NULL DEFAULT '[]',
    superseded_by INTEGER REFERENCES jobs (id) ON DELETE SET NULL
) STRICT;

-- Claiming (oldest due first) and the queue counts.
CREATE INDEX jobs_claim ON jobs (status, run_at, id);
-- The jobs of a key, newest last.
CREATE INDEX jobs_key ON jobs (job_key, id);
-- Per-repository limits.
CREATE INDEX jobs_repo ON jobs (repo, status);
-- The queue's central rule as a constraint.
CREATE UNIQUE INDEX jobs_one_active_per_key ON jobs (job_key)
    WHERE status IN ('queued', 'deferred', 'running');
