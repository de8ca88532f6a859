-- request_ids are remembered for a retry window, then pruned oldest first (see
-- adapters/postgres.py, prune_requests); views alone add a row each, so this table is
-- the one that grows with traffic.
-- depends: video_command_0001_videos
CREATE INDEX requests_create_time ON requests (create_time);
