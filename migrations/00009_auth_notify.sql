-- +goose Up
-- Every process caches resolved tokens; a change that can make a cached
-- caller wrong (a revoked or expired token, a disabled user, a changed
-- role, a post given to someone else) notifies channel helpline_auth, and
-- every listening process drops its cache. Notifications are sent at
-- commit and merged per transaction.
-- +goose StatementBegin
CREATE FUNCTION helpline_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('helpline_auth', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER tokens_auth_changed AFTER UPDATE ON tokens FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.hash IS DISTINCT FROM NEW.hash)
    EXECUTE FUNCTION helpline_auth_changed();
CREATE TRIGGER tokens_auth_deleted AFTER DELETE ON tokens FOR EACH STATEMENT EXECUTE FUNCTION helpline_auth_changed();
CREATE TRIGGER users_auth_changed AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION helpline_auth_changed();
CREATE TRIGGER users_auth_deleted AFTER DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION helpline_auth_changed();
CREATE TRIGGER posts_auth_changed AFTER UPDATE ON posts FOR EACH ROW
    WHEN (OLD.holder_user_id IS DISTINCT FROM NEW.holder_user_id OR OLD.code IS DISTINCT FROM NEW.code
          OR OLD.department_id IS DISTINCT FROM NEW.department_id OR OLD.district_id IS DISTINCT FROM NEW.district_id)
    EXECUTE FUNCTION helpline_auth_changed();
CREATE TRIGGER posts_auth_inserted AFTER INSERT OR DELETE ON posts FOR EACH STATEMENT EXECUTE FUNCTION helpline_auth_changed();

-- +goose Down
DROP TRIGGER posts_auth_inserted ON posts;
DROP TRIGGER posts_auth_changed ON posts;
DROP TRIGGER users_auth_deleted ON users;
DROP TRIGGER users_auth_changed ON users;
DROP TRIGGER tokens_auth_deleted ON tokens;
DROP TRIGGER tokens_auth_changed ON tokens;
DROP FUNCTION helpline_auth_changed();
