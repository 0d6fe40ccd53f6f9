-- Stored compare results, served as permalinks until they expire.
-- Times are unix milliseconds; the document is zstd-compressed JSON.
CREATE TABLE compare_results (
    compare_id        TEXT    NOT NULL PRIMARY KEY,
    repository        TEXT    NOT NULL,
    chart_path        TEXT    NOT NULL,
    version1          TEXT    NOT NULL,
    version2          TEXT    NOT NULL,
    commit1           TEXT    NOT NULL,
    commit2           TEXT    NOT NULL,
    verdict           TEXT    NOT NULL,
    added             INTEGER NOT NULL,
    removed           INTEGER NOT NULL,
    modified          INTEGER NOT NULL,
    unchanged         INTEGER NOT NULL,
    total_changes     INTEGER NOT NULL,
    document          BLOB    NOT NULL,
    uncompressed_size INTEGER NOT NULL,
    compressed_size   INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    compare_count     INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE INDEX compare_results_expires_at ON compare_results (expires_at);
CREATE INDEX compare_results_created_at ON compare_results (created_at DESC, compare_id);
CREATE INDEX compare_results_chart ON compare_results (repository, chart_path, created_at DESC);
