-- One row per saved compare (deduplicated or not), for analytics. No foreign key: events
-- outlive the results they describe.
CREATE TABLE compare_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    compare_id    TEXT COLLATE "C" NOT NULL,
    repository    TEXT COLLATE "C" NOT NULL,
    chart_path    TEXT COLLATE "C" NOT NULL,
    at            BIGINT NOT NULL,
    added         BIGINT NOT NULL,
    removed       BIGINT NOT NULL,
    modified      BIGINT NOT NULL,
    total_changes BIGINT NOT NULL
);

CREATE INDEX compare_events_at ON compare_events (at);
