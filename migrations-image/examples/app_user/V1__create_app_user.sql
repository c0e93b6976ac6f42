-- The users of the example service. "user" is a reserved word in PostgreSQL: the table is app_user.
CREATE TABLE app_user (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
