-- The inbox of the idempotent consumer (gomesh/consumer), the same table mesh/consumer.py
-- keeps: one row per event a consumer group applied, inserted in the same transaction as
-- the event's effect. A redelivered event conflicts on the primary key, so its effect is
-- not applied twice.

-- +goose Up
CREATE TABLE inbox (
    consumer_group  text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);

-- +goose Down
DROP TABLE inbox;
