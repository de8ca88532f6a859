CREATE TABLE mark_read_requests (
    user_id       uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    marked_count  bigint      NOT NULL DEFAULT 0,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, request_id)
);
