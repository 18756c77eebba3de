-- +goose Up
-- The transactional outbox: rows are written in the same transaction as the
-- change, then published to NATS JetStream by the relay.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    subject       text NOT NULL,
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Events each consumer applied, kept for the retention window.
CREATE TABLE applied_events (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    applied_at  timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX applied_events_age ON applied_events (applied_at);

-- The newest complaint version each consumer applied.
CREATE TABLE consumer_versions (
    consumer      text NOT NULL,
    complaint_id  bigint NOT NULL,
    version       bigint NOT NULL,
    PRIMARY KEY (consumer, complaint_id)
);

-- +goose Down
DROP TABLE consumer_versions, applied_events, outbox;
