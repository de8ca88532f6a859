CREATE TABLE requests (
    request_id   uuid        PRIMARY KEY,
    command      text        NOT NULL,
    response     jsonb,
    create_time  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_create_time ON requests (create_time);
