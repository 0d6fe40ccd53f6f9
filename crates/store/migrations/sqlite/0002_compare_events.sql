-- One row per saved compare (deduplicated or not), for analytics. No foreign key: events
-- outlive the results they describe.
CREATE TABLE compare_events (
    id            INTEGER NOT NULL PRIMARY KEY,
    compare_id    TEXT    NOT NULL,
    repository    TEXT    NOT NULL,
    chart_path    TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    added         INTEGER NOT NULL,
    removed       INTEGER NOT NULL,
    modified      INTEGER NOT NULL,
    total_changes INTEGER NOT NULL
) STRICT;

CREATE INDEX compare_events_at ON compare_events (at);
