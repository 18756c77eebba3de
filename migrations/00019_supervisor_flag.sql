-- +goose Up
-- Issue 17: a complaint at a post without a holder, or with no held post
-- above it to escalate or reopen to, is flagged for the supervisor (the
-- reason; NULL when not flagged), and the supervisor's queue filters on it.
ALTER TABLE complaints ADD COLUMN supervisor_flag text;
CREATE INDEX complaints_supervisor_flag ON complaints (created_at DESC, id DESC)
    WHERE supervisor_flag IS NOT NULL AND status NOT IN ('RESOLVED', 'CLOSED');

-- +goose Down
DROP INDEX complaints_supervisor_flag;
ALTER TABLE complaints DROP COLUMN supervisor_flag;
