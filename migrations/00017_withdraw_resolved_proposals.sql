-- +goose Up
-- Issue 17: a special-closure proposal is withdrawn when the complaint is
-- resolved, and no RESOLVED or CLOSED complaint carries one. Older code
-- kept the flag through resolution and the feedback closures; this repairs
-- those rows (the flag and the proposal's fields only: no state or version
-- changes). An approved special closure has no pending flag and keeps its
-- reason.
UPDATE complaints
SET special_closure_pending = false, special_closure_reason = NULL, special_closure_duplicate_of = NULL,
    special_closure_note = NULL, special_closure_proposed_by = NULL
WHERE special_closure_pending AND status IN ('RESOLVED', 'CLOSED');

-- +goose Down
-- Nothing to undo: the withdrawn proposals are not restored.
SELECT 1;
