-- The request_id log of mesh/idempotency.py: a mutating RPC's request_id, claimed in the
-- same transaction as its effect, with the request's fingerprint (a hash of what it asked,
-- never of a secret) and the answer it got, so a retry gets the first answer and the same
-- id with another request is refused. Pruned by mesh/retention.py after the retention.
-- depends: mesh_0002_inbox
CREATE TABLE request_log (
    request_id   text        PRIMARY KEY,
    method       text        NOT NULL,
    fingerprint  text        NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_log_created_at ON request_log (created_at);
CREATE INDEX inbox_processed_at ON inbox (processed_at);
