-- +goose Up
-- Feedback calls on a resolved complaint: failed attempts since the latest resolution.
ALTER TABLE complaints
    ADD COLUMN feedback_attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN feedback_first_failed_at timestamptz;

-- The no-response job's scan.
CREATE INDEX complaints_feedback_expiry ON complaints (feedback_first_failed_at)
    WHERE status = 'RESOLVED' AND feedback_attempts > 0;

-- Every feedback call, reached or not: the record behind satisfaction statistics.
CREATE TABLE feedback (
    id            bigserial PRIMARY KEY,
    complaint_id  bigint NOT NULL REFERENCES complaints (id),
    outcome       text NOT NULL CHECK (outcome IN ('REACHED', 'NOT_REACHABLE')),
    satisfied     boolean,
    rating        smallint CHECK (rating BETWEEN 1 AND 5),
    comment       text NOT NULL DEFAULT '',
    agent         text NOT NULL,
    level         smallint NOT NULL,
    at            timestamptz NOT NULL
);
CREATE INDEX feedback_complaint ON feedback (complaint_id, at);

-- Resolved complaints awaiting the feedback call, kept by the feedback consumer.
CREATE TABLE feedback_queue (
    complaint_id  bigint PRIMARY KEY REFERENCES complaints (id),
    resolved_at   timestamptz NOT NULL
);
CREATE INDEX feedback_queue_order ON feedback_queue (resolved_at, complaint_id);

-- Notifications to citizens and officers, written by the notifier consumer
-- and delivered by the dispatcher; one row per event and recipient.
CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    event_id         uuid NOT NULL,
    complaint_id     bigint NOT NULL REFERENCES complaints (id),
    kind             text NOT NULL,
    recipient        text NOT NULL,
    language         text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX notifications_complaint ON notifications (complaint_id);

-- +goose Down
DROP TABLE notifications, feedback_queue, feedback;
DROP INDEX complaints_feedback_expiry;
ALTER TABLE complaints DROP COLUMN feedback_attempts, DROP COLUMN feedback_first_failed_at;
