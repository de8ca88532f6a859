-- The email service's own data: its copy of addresses (from users.v1.UserRegistered) and
-- every email it queued, sent or gave up on. It never reads another service's database.
-- depends: mesh_0002_inbox

CREATE TABLE recipients (
    user_id        uuid        PRIMARY KEY,
    address        text        NOT NULL,
    display_name   text        NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per email, written by the consumer (queued) and moved on by the dispatcher.
CREATE TABLE emails (
    email_id         uuid        PRIMARY KEY,
    -- The event that caused it: one event, at most one email, inbox or not.
    source_event_id  uuid        NOT NULL UNIQUE,
    kind             text        NOT NULL CHECK (kind IN ('welcome', 'notification')),
    recipient_id     uuid        NOT NULL,
    -- NULL while the recipient's address is unknown (NotificationCreated came first).
    to_address       text,
    subject          text        NOT NULL,
    body             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    queued_at        timestamptz NOT NULL DEFAULT now(),
    -- When the mail server accepted it.
    send_time        timestamptz,
    last_error       text,
    CHECK ((status = 'sent') = (send_time IS NOT NULL)),
    CHECK (status = 'queued' OR to_address IS NOT NULL)
);

-- The dispatcher's queue: small however many emails were sent.
CREATE INDEX emails_due ON emails (queued_at, email_id) WHERE status = 'queued' AND to_address IS NOT NULL;
-- Emails waiting for their recipient's address.
CREATE INDEX emails_waiting ON emails (recipient_id) WHERE to_address IS NULL;
-- ListSentEmails, all recipients or one, newest first in keyset pages.
CREATE INDEX emails_sent ON emails (send_time DESC, email_id DESC) WHERE status = 'sent';
CREATE INDEX emails_sent_to ON emails (recipient_id, send_time DESC, email_id DESC) WHERE status = 'sent';
