ALTER TABLE emails DROP COLUMN traceparent;
