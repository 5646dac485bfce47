-- inkan-tsa shared records store, schema version 1 (applied by pgstore::migrate under an
-- advisory lock, in one transaction with its row in inkan_schema).

-- Instance numbers and their leases; each number carries its own hash chain head.
CREATE TABLE inkan_instances (
    number      integer PRIMARY KEY CHECK (number BETWEEN 1 AND 65535),
    owner       text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    taken_at    timestamptz NOT NULL,
    chain_next  bigint      NOT NULL DEFAULT 0,
    chain_head  bytea       NOT NULL
);

-- One row per issued token. `stored` is the record exactly as the embedded store keeps it
-- (format 2: record, chain link, kept token); the other columns are for the indexes.
CREATE TABLE inkan_token_records (
    serial    bytea   PRIMARY KEY CHECK (length(serial) = 16),
    instance  integer NOT NULL,
    seq       bigint  NOT NULL,
    gen_ns    bigint  NOT NULL,
    imprint   bytea   NOT NULL,
    stored    bytea   NOT NULL,
    UNIQUE (instance, seq)
);
CREATE INDEX inkan_token_records_time ON inkan_token_records (gen_ns);
CREATE INDEX inkan_token_records_imprint ON inkan_token_records (imprint);

-- Service events as JSON lines (`seq` is this table's).
CREATE TABLE inkan_events (
    seq       bigserial PRIMARY KEY,
    time_ns   bigint  NOT NULL,
    instance  integer,
    body      text    NOT NULL
);
CREATE INDEX inkan_events_time ON inkan_events (time_ns);

CREATE TABLE inkan_rejections (
    reason  text   PRIMARY KEY,
    count   bigint NOT NULL
);

-- Every serial prefix ever taken (unique across all instances and restarts).
CREATE TABLE inkan_serial_prefixes (
    prefix    bigint  PRIMARY KEY,
    epoch     bigint  NOT NULL,
    instance  integer NOT NULL,
    taken_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inkan_meta (
    name   text   PRIMARY KEY,
    value  bigint NOT NULL
);
