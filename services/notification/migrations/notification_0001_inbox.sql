-- The notification service's own data: its copy of the users.v1 facts it needs (who
-- follows whom, display names) and every user's inbox. It never reads another service's
-- database; these tables are filled from events.
-- depends: mesh_0002_inbox

-- From UserFollowed / UserUnfollowed, keyed for "the followers of a channel".
CREATE TABLE follows (
    channel_id   uuid        NOT NULL,
    follower_id  uuid        NOT NULL,
    followed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, follower_id)
);

-- From UserRegistered and UserFollowed: the names notification texts mention.
CREATE TABLE people (
    user_id       uuid PRIMARY KEY,
    display_name  text NOT NULL
);

CREATE TABLE notifications (
    notification_id  uuid        PRIMARY KEY,
    -- The event that caused it: one event notifies a recipient at most once, whether or
    -- not the inbox saw the event before.
    source_event_id  uuid        NOT NULL,
    recipient_id     uuid        NOT NULL,
    kind             text        NOT NULL
                     CHECK (kind IN ('video_published', 'video_liked', 'comment_added', 'new_follower')),
    video_id         uuid,
    actor_id         uuid        NOT NULL,
    text             text        NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    read             boolean     NOT NULL DEFAULT false,
    create_time      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_event_id, recipient_id)
);

-- ListNotifications: one user's inbox, newest first, in keyset pages.
CREATE INDEX notifications_inbox ON notifications (recipient_id, create_time DESC, notification_id DESC);
-- UnreadCount and "mark all read" only look at what is unread.
CREATE INDEX notifications_unread ON notifications (recipient_id) WHERE NOT read;

-- MarkRead's request_id: a retried request reports what the first one did.
CREATE TABLE mark_read_requests (
    user_id       uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    marked_count  bigint      NOT NULL DEFAULT 0,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, request_id)
);
