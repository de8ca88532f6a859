-- Every publication the service heard of, and follows stamped with when they happened (the
-- event's time, not when it arrived). Follows travel on users.v1, publications on video.v1,
-- so either may arrive first: a publication tells the followers who followed before it, and a
-- follow that arrives late tells its follower of the publications after it, so the outcome
-- is the same in any arrival order.
-- depends: notification_0002_mesh_request_log
CREATE TABLE publications (
    video_id         uuid        PRIMARY KEY,
    owner_id         uuid        NOT NULL,
    title            text        NOT NULL,
    source_event_id  uuid        NOT NULL,
    published_at     timestamptz NOT NULL
);
CREATE INDEX publications_by_owner ON publications (owner_id, published_at);
