-- +goose Up
-- The secret of a complaint's public status page: without it the page shows
-- nothing (dockets are sequential, so a docket alone is no secret). 122
-- random bits; the volatile default gives every existing complaint its own.
ALTER TABLE complaints ADD COLUMN status_token text NOT NULL
    DEFAULT replace(gen_random_uuid()::text, '-', '');

-- +goose Down
ALTER TABLE complaints DROP COLUMN status_token;
