CREATE TABLE processed_requests (
    request_id   uuid        PRIMARY KEY,
    operation    text        NOT NULL,
    fingerprint  text        NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
