-- Stored compare results, served as permalinks until they expire.
-- Times are unix milliseconds; the document is zstd-compressed JSON. Identifiers sort
-- bytewise (COLLATE "C") whatever the database locale, as in SQLite.
CREATE TABLE compare_results (
    compare_id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    repository        TEXT COLLATE "C" NOT NULL,
    chart_path        TEXT COLLATE "C" NOT NULL,
    version1          TEXT   NOT NULL,
    version2          TEXT   NOT NULL,
    commit1           TEXT   NOT NULL,
    commit2           TEXT   NOT NULL,
    verdict           TEXT   NOT NULL,
    added             BIGINT NOT NULL,
    removed           BIGINT NOT NULL,
    modified          BIGINT NOT NULL,
    unchanged         BIGINT NOT NULL,
    total_changes     BIGINT NOT NULL,
    document          BYTEA  NOT NULL,
    uncompressed_size BIGINT NOT NULL,
    compressed_size   BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    compare_count     BIGINT NOT NULL DEFAULT 1
);

-- Already compressed: store out of line without trying pglz again.
ALTER TABLE compare_results ALTER COLUMN document SET STORAGE EXTERNAL;

CREATE INDEX compare_results_expires_at ON compare_results (expires_at);
CREATE INDEX compare_results_created_at ON compare_results (created_at DESC, compare_id);
CREATE INDEX compare_results_chart ON compare_results (repository, chart_path, created_at DESC);
