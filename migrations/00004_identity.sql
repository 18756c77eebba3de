-- +goose Up
-- Brute-force protection: failures in the current one-minute window, and
-- the end of a cooling-off period during which the hash is not even checked.
ALTER TABLE users
    ADD COLUMN failed_logins       integer NOT NULL DEFAULT 0,
    ADD COLUMN failed_window_start timestamptz,
    ADD COLUMN locked_until        timestamptz;

-- Bearer tokens, stored only as SHA-256 hashes of the random secret.
CREATE TABLE tokens (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    hash        bytea NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('SESSION', 'API')),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_expired ON tokens (expires_at);

-- +goose Down
DROP TABLE tokens;
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN failed_window_start, DROP COLUMN locked_until;
