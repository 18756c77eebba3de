-- +goose Up
-- The W3C traceparent of the command that wrote the event: the relay sends
-- it in the NATS message headers, so a trace runs from the RPC to each
-- consumer.
ALTER TABLE outbox ADD COLUMN trace_parent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN trace_parent;
