-- +goose Up
-- Citizens, keyed by normalized (E.164) phone.
CREATE TABLE citizens (
    id          bigserial PRIMARY KEY,
    phone       text NOT NULL UNIQUE,
    name        text NOT NULL,
    language    text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    erased_at   timestamptz
);

CREATE TABLE complaints (
    id                       bigserial PRIMARY KEY,
    docket                   text NOT NULL UNIQUE,
    version                  bigint NOT NULL,
    status                   text NOT NULL,
    citizen_id               bigint NOT NULL REFERENCES citizens (id),
    district_id              bigint NOT NULL REFERENCES locations (id),
    block_id                 bigint REFERENCES locations (id),
    ward_id                  bigint REFERENCES locations (id),
    locality                 text NOT NULL DEFAULT '',
    address                  text NOT NULL DEFAULT '',
    category_id              bigint NOT NULL REFERENCES categories (id),
    department_id            bigint REFERENCES departments (id),
    post_id                  bigint REFERENCES posts (id),
    level                    smallint NOT NULL DEFAULT 0,
    sla_due_at               timestamptz,
    description              text NOT NULL,
    channel                  text NOT NULL,
    helpline                 text NOT NULL REFERENCES helpline_lines (code),
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    resolved_at              timestamptz,
    closed_at                timestamptz,
    closure                  text,
    reopen_count             integer NOT NULL DEFAULT 0,
    follow_up_count          integer NOT NULL DEFAULT 0,
    special_closure_pending  boolean NOT NULL DEFAULT false,
    -- Idempotency: the scope is the caller, the key is theirs, kept forever.
    idem_scope               text NOT NULL,
    idem_key                 text NOT NULL,
    idem_hash                bytea NOT NULL,
    UNIQUE (idem_scope, idem_key)
);
CREATE INDEX complaints_citizen ON complaints (citizen_id, created_at DESC);
CREATE INDEX complaints_status ON complaints (status, created_at);
CREATE INDEX complaints_post_queue ON complaints (post_id, sla_due_at, id) WHERE status NOT IN ('RESOLVED', 'CLOSED');
CREATE INDEX complaints_created ON complaints (created_at DESC, id DESC);
CREATE INDEX complaints_text ON complaints USING gin ((description || ' ' || locality || ' ' || address) gin_trgm_ops);

-- Append-only audit trail with a snapshot after every change.
CREATE TABLE complaint_history (
    id               bigserial PRIMARY KEY,
    complaint_id     bigint NOT NULL REFERENCES complaints (id),
    version          bigint NOT NULL,
    action           text NOT NULL,
    from_status      text,
    to_status        text NOT NULL,
    actor            text NOT NULL,
    actor_role       text NOT NULL,
    note             text NOT NULL DEFAULT '',
    at               timestamptz NOT NULL,
    department_code  text,
    category_code    text NOT NULL,
    district_code    text NOT NULL,
    post_code        text,
    level            smallint NOT NULL,
    sla_due_at       timestamptz,
    UNIQUE (complaint_id, version)
);

-- +goose StatementBegin
CREATE FUNCTION complaint_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_history is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER complaint_history_no_change BEFORE UPDATE OR DELETE ON complaint_history
    FOR EACH ROW EXECUTE FUNCTION complaint_history_append_only();

-- Per-year docket sequences, created on first use.
-- +goose StatementBegin
CREATE FUNCTION next_docket_seq(yy integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    seqname text := format('docket_seq_%s', lpad(yy::text, 2, '0'));
BEGIN
    LOOP
        BEGIN
            RETURN nextval(seqname);
        EXCEPTION WHEN undefined_table THEN
            BEGIN
                EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I MAXVALUE 9999999', seqname);
            EXCEPTION WHEN unique_violation OR duplicate_table THEN
                NULL; -- created concurrently; retry nextval
            END;
        END;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION next_docket_seq(integer);
DROP TABLE complaint_history, complaints, citizens;
DROP FUNCTION complaint_history_append_only();
