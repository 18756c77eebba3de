-- +goose Up
ALTER TABLE complaints
    ADD COLUMN on_hold_since               timestamptz,
    ADD COLUMN action_taken_report         text NOT NULL DEFAULT '',
    ADD COLUMN special_closure_reason      text,
    ADD COLUMN special_closure_duplicate_of text,
    ADD COLUMN special_closure_proposed_by bigint REFERENCES users (id),
    ADD COLUMN special_closure_note        text;

-- The escalation job's scan: complaints whose deadline passed, below L4.
CREATE INDEX complaints_escalation ON complaints (sla_due_at)
    WHERE status IN ('ASSIGNED', 'IN_PROGRESS', 'REOPENED') AND level < 4;

-- Complaints about the same issue, stored in both directions.
CREATE TABLE complaint_links (
    complaint_id  bigint NOT NULL REFERENCES complaints (id),
    linked_id     bigint NOT NULL REFERENCES complaints (id),
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, linked_id),
    CHECK (complaint_id <> linked_id)
);

-- +goose Down
DROP TABLE complaint_links;
DROP INDEX complaints_escalation;
ALTER TABLE complaints DROP COLUMN on_hold_since, DROP COLUMN action_taken_report, DROP COLUMN special_closure_reason,
    DROP COLUMN special_closure_duplicate_of, DROP COLUMN special_closure_proposed_by, DROP COLUMN special_closure_note;
