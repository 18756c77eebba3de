-- +goose Up
-- Issue 16: the name and language given with a complaint are kept on the
-- complaint itself; another registration with the same phone never changes
-- them (nor the citizen's record, which only an explicit edit changes).
ALTER TABLE complaints ADD COLUMN citizen_name text NOT NULL DEFAULT '',
                       ADD COLUMN citizen_language text NOT NULL DEFAULT '';
UPDATE complaints c SET citizen_name = ci.name, citizen_language = ci.language
FROM citizens ci WHERE ci.id = c.citizen_id;

-- +goose Down
ALTER TABLE complaints DROP COLUMN citizen_name, DROP COLUMN citizen_language;
