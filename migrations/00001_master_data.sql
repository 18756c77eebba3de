-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The location tree: district -> block or municipal body -> ward or panchayat.
CREATE TABLE locations (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('DISTRICT', 'BLOCK', 'WARD')),
    code       text NOT NULL UNIQUE,
    parent_id  bigint REFERENCES locations (id),
    name       text NOT NULL,
    name_hi    text NOT NULL DEFAULT '',
    CHECK ((kind = 'DISTRICT') = (parent_id IS NULL))
);
CREATE INDEX locations_parent ON locations (parent_id);

CREATE TABLE departments (
    id       bigserial PRIMARY KEY,
    code     text NOT NULL UNIQUE,
    name     text NOT NULL,
    name_hi  text NOT NULL DEFAULT ''
);

CREATE TABLE categories (
    id             bigserial PRIMARY KEY,
    code           text NOT NULL UNIQUE,
    department_id  bigint NOT NULL REFERENCES departments (id),
    name           text NOT NULL,
    name_hi        text NOT NULL DEFAULT '',
    sla_days       integer[] NOT NULL CHECK (cardinality(sla_days) = 4)
);

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    display_name   text NOT NULL DEFAULT '',
    role           text NOT NULL CHECK (role IN ('AGENT', 'OFFICER', 'SUPERVISOR', 'ADMIN')),
    password_hash  text NOT NULL DEFAULT '',
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL
);

-- A post is a seat in a department's chain; complaints are assigned to posts.
CREATE TABLE posts (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    department_id   bigint NOT NULL REFERENCES departments (id),
    level           smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    district_id     bigint REFERENCES locations (id),
    name            text NOT NULL DEFAULT '',
    holder_user_id  bigint REFERENCES users (id),
    CHECK ((level <= 2) = (district_id IS NOT NULL))
);
-- One post per department, level and jurisdiction (NULL district = state).
CREATE UNIQUE INDEX posts_seat ON posts (department_id, level, coalesce(district_id, 0));
CREATE INDEX posts_holder ON posts (holder_user_id);

-- Routing rules: (category, location node) -> department; NULL location = state-wide.
CREATE TABLE routing_rules (
    id             bigserial PRIMARY KEY,
    category_id    bigint NOT NULL REFERENCES categories (id),
    location_id    bigint REFERENCES locations (id),
    department_id  bigint NOT NULL REFERENCES departments (id)
);
CREATE UNIQUE INDEX routing_rules_key ON routing_rules (category_id, coalesce(location_id, 0));

CREATE TABLE helpline_lines (
    code  text PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE holidays (
    day   date PRIMARY KEY,
    name  text NOT NULL
);

-- +goose Down
DROP TABLE holidays, helpline_lines, routing_rules, posts, users, categories, departments, locations;
