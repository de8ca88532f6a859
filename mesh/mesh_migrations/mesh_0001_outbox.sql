-- The transactional outbox: a service inserts its events here in the same transaction as
-- the state change; mesh.outbox.OutboxRelay publishes them to Kafka and marks them sent.
-- id is only an ordering key: sequence values are taken at INSERT and committed later, in
-- any order, so the relay selects "WHERE published_at IS NULL", never "id > last seen".
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      uuid        NOT NULL UNIQUE,
    event_type    text        NOT NULL,
    topic         text        NOT NULL,
    key           text        NOT NULL,
    payload       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

-- The relay's queue: small however large the table grows, because sent rows leave it.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
-- Pruning of old sent rows.
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
