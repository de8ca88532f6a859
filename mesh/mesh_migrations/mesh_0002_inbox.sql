-- The inbox of the idempotent consumer (mesh.consumer): one row per event a consumer group
-- applied, inserted in the same transaction as the event's effect. A redelivered event
-- conflicts on the primary key, so its effect is not applied twice.
-- depends: mesh_0001_outbox
-- IF NOT EXISTS: a Go service's database may have it from gomesh's own copy of this table,
-- from before both runtimes applied these files.
CREATE TABLE IF NOT EXISTS inbox (
    consumer_group  text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
