-- +goose Up
-- The supervisor's queues: special closures awaiting a decision, and open
-- complaints that were escalated (both few among many), newest first.
CREATE INDEX complaints_special_pending ON complaints (created_at DESC, id DESC) WHERE special_closure_pending;
CREATE INDEX complaints_escalated_open ON complaints (created_at DESC, id DESC) WHERE escalation_count > 0 AND status <> 'CLOSED';

-- +goose Down
DROP INDEX complaints_escalated_open;
DROP INDEX complaints_special_pending;
