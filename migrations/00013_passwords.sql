-- +goose Up
-- A one-time password (set by an administrator or an officer import) must
-- be changed at the next login: until then that login's token allows only
-- ChangePassword.
ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;

-- What a token may call beyond what its user's role allows: FULL is the
-- role's whole policy; PASSWORD_CHANGE only ChangePassword (internal/auth
-- policy.go has the table). A token's scope never changes after it is
-- issued, so the cache triggers of 00009 need not watch it.
ALTER TABLE tokens ADD COLUMN scope text NOT NULL DEFAULT 'FULL'
    CHECK (scope IN ('FULL', 'PASSWORD_CHANGE'));

-- +goose Down
ALTER TABLE tokens DROP COLUMN scope;
ALTER TABLE users DROP COLUMN password_change_required;
