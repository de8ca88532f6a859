-- MarkRead's request_ids now live in mesh's request_log (mesh/idempotency.py), with the
-- same meaning as in every service: a retry gets the first answer, the same id with another
-- request (another user's, or other notifications) is refused. The old per-user table goes;
-- its ids were a retry window, so a sample may drop them.
-- depends: notification_0001_inbox
DROP TABLE mark_read_requests;
