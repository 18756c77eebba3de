-- +goose Up
-- OPEN311: an Open311 application's api_key, which opens only the calls
-- the Open311 adapter makes on its behalf (internal/auth policy.go).
ALTER TABLE tokens DROP CONSTRAINT tokens_scope_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_scope_check
    CHECK (scope IN ('FULL', 'PASSWORD_CHANGE', 'OPEN311'));

-- +goose Down
DELETE FROM tokens WHERE scope = 'OPEN311';
ALTER TABLE tokens DROP CONSTRAINT tokens_scope_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_scope_check
    CHECK (scope IN ('FULL', 'PASSWORD_CHANGE'));
