-- The request_id log: a command's request_id, claimed in the same transaction as its
-- effect, with the answer it got, so a retried command applies once and gets the first
-- answer. fingerprint (a hash of the request's content, never of a password) tells a retry
-- from a different request that reuses the id.
-- depends: users_0001_accounts
CREATE TABLE processed_requests (
    request_id   uuid        PRIMARY KEY,
    operation    text        NOT NULL,
    fingerprint  text        NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
