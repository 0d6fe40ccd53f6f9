-- GitHub webhook deliveries seen (`X-GitHub-Delivery`), so a redelivered event is recognized,
-- and the job each one enqueued. Kept for at least a week, then deleted by age.
CREATE TABLE webhook_deliveries (
    delivery_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    event       TEXT   NOT NULL,
    action      TEXT,
    repo        TEXT,
    received_at BIGINT NOT NULL,
    job_id      BIGINT REFERENCES jobs (id) ON DELETE SET NULL
);

CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at);
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);
