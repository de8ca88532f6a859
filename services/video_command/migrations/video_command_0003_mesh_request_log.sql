-- request_ids now live in mesh's request_log (mesh/idempotency.py), one meaning in every
-- service: the first answer is replayed, the same id with another request is refused. The
-- old log, which kept only the command's name, goes; its ids were a day's retry window.
-- depends: video_command_0002_requests_retention
DROP TABLE requests;
