-- +goose Up
-- An API client lists the requests it filed (Open311 GET requests.json):
-- by registering user, newest first.
CREATE INDEX complaints_registered_by ON complaints (idem_scope, created_at DESC, id DESC);

-- +goose Down
DROP INDEX complaints_registered_by;
