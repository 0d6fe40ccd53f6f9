-- Jobs are keyed by the repository's numeric id (`repository.id` of the delivery), which a
-- rename or a transfer does not change, instead of its name (reference R14): two deliveries
-- for the same pull request with a rename in between are the same key. `job_key` and `repo`
-- keep the name (the newest seen, for people and for API calls); `key_identity` and
-- `repo_identity` are what the queue compares: `{repo_id}#pr/7` and `{repo_id}`, or the name
-- forms (`owner/name#pr/7`, `owner/name`) for a job whose repository id is unknown. An id has
-- no `/` and a name always has one, so the two forms never collide. Jobs from before this
-- migration keep the name forms.
ALTER TABLE jobs ADD COLUMN repo_id INTEGER;
ALTER TABLE jobs ADD COLUMN key_identity TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN repo_identity TEXT NOT NULL DEFAULT '';
UPDATE jobs SET key_identity = job_key, repo_identity = repo;

-- The indexes of 0003 on the names move to the identities (`jobs_repo` stays: listing by
-- repository name uses it).
DROP INDEX jobs_one_active_per_key;
DROP INDEX jobs_key;
-- The jobs of a key, newest last.
CREATE INDEX jobs_key_identity ON jobs (key_identity, id);
-- Per-repository limits.
CREATE INDEX jobs_repo_identity ON jobs (repo_identity, status);
-- The queue's central rule as a constraint.
CREATE UNIQUE INDEX jobs_one_active_per_key ON jobs (key_identity)
    WHERE status IN ('queued', 'deferred', 'running');
