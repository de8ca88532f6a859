-- The trace of the event that queued an email (its consumer span, W3C traceparent), so that
-- sending it later is a span of the same trace: one user action, one story, down to SMTP.
-- depends: email_0001_emails
ALTER TABLE emails ADD COLUMN traceparent text NOT NULL DEFAULT '';
