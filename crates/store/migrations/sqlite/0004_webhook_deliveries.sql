-- GitHub webhook deliveries seen (`X-GitHub-Delivery`), so a redelivered event is recognized,
-- and the job each one enqueued. Kept for at least a week, then deleted by age.
CREATE TABLE webhook_deliveries (
    delivery_id TEXT    NOT NULL PRIMARY KEY,
    event       TEXT    NOT NULL,
    action      TEXT,
    repo        TEXT,
    received_at INTEGER NOT NULL,
    job_id      INTEGER REFERENCES jobs (id) ON DELETE SET NULL
) STRICT;

CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at);
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);
