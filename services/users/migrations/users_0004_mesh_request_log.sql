-- request_ids now live in mesh's request_log (mesh/idempotency.py), with the same meaning
-- in every service: a retry gets the first answer, the same id with another request is
-- refused. The old log goes; its ids were a day's retry window, so a sample may drop them.
-- depends: users_0003_requests
DROP TABLE processed_requests;
