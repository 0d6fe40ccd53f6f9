-- What the server published on each pull request, so any replica (or this one after a
-- restart) updates the same sticky comment and completes the same check run instead of
-- searching for them. A check run belongs to one head commit; only the latest is kept.
CREATE TABLE publications (
    repo          TEXT COLLATE "C" NOT NULL,
    pr_number     BIGINT NOT NULL,
    comment_id    BIGINT,
    check_run_sha TEXT COLLATE "C",
    check_run_id  BIGINT,
    check_run_job BIGINT,
    PRIMARY KEY (repo, pr_number)
);
