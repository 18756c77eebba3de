-- +goose Up
-- Failed logins, shared by every replica (identity owns this table; its
-- SQL is in services/identity/store.go). One row per counter: scope 'pair'
-- is one username from one address, 'address' one address over every
-- username (username ''), 'username' one username over every address
-- (address ''). failures counts the failures of the fixed window that
-- began at window_start; locked_until ends a cooling-off period during
-- which the pair or address is refused without the hash being checked.
-- A username is never locked: its count slows wrong-password answers and
-- refuses only addresses that have failed it in its window. Usernames are
-- counted as typed, whether or not a user has that name.
CREATE TABLE login_throttle (
    scope        text NOT NULL CHECK (scope IN ('pair', 'address', 'username')),
    address      text NOT NULL,
    username     text NOT NULL,
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL,
    last_failure timestamptz NOT NULL,
    locked_until timestamptz,
    PRIMARY KEY (scope, address, username)
);
-- The purge of rows no limit needs any more.
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure);

-- The per-user lock (which anyone could set off for any known username,
-- from anywhere) is gone.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN failed_window_start, DROP COLUMN locked_until;

-- +goose Down
ALTER TABLE users
    ADD COLUMN failed_logins       integer NOT NULL DEFAULT 0,
    ADD COLUMN failed_window_start timestamptz,
    ADD COLUMN locked_until        timestamptz;
DROP TABLE login_throttle;
