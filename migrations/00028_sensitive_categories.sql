-- +goose Up
-- A sensitive category (drug peddling, an FIR not registered, ...): the
-- public status page of its complaints shows only the department, never the
-- category or the district.
ALTER TABLE categories ADD COLUMN sensitive boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE categories DROP COLUMN sensitive;
