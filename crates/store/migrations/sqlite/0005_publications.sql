-- What the server published on each pull request, so any replica (or this one after a
-- restart) updates the same sticky comment and completes the same check run instead of
-- searching for them. A check run belongs to one head commit; only the latest is kept.
CREATE TABLE publications (
    repo          TEXT    NOT NULL,
    pr_number     INTEGER NOT NULL,
    comment_id    INTEGER,
    check_run_sha TEXT,
    check_run_id  INTEGER,
    check_run_job INTEGER,
    PRIMARY KEY (repo, pr_number)
) STRICT;
