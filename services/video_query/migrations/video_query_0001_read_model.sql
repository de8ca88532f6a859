-- The read model of the video context (CQRS query side), built by the projector from
-- video.v1 and users.v1 events; services/video_query/domain.py holds the rules.
--
-- Events carry full state and counters as totals, so the projector SETs values. Each group
-- of columns remembers the aggregate version that last set it (details_version,
-- publish_version, ...): an event changes only the columns it carries, and only when its
-- version is newer than theirs. The outcome is the same whatever order the events arrive
-- in and however often, which is what lets a rebuild replay the topics next to a live
-- projector (services/video_query/rebuild.py).

-- array_to_string is only STABLE in general (element output functions may read settings),
-- but for text[] it cannot change, and a generated column needs an IMMUTABLE expression.
CREATE FUNCTION tags_text(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_string(tags, ' ');

CREATE TABLE videos (
    video_id         uuid PRIMARY KEY,
    owner_id         uuid        NOT NULL,
    -- The highest version applied; what min_version waits for.
    version          bigint      NOT NULL DEFAULT 0,
    -- VideoCreated seen: until then the row only holds counters that arrived early.
    created          boolean     NOT NULL DEFAULT false,
    title            text        NOT NULL DEFAULT '',
    description      text        NOT NULL DEFAULT '',
    tags             text[]      NOT NULL DEFAULT '{}',
    details_version  bigint      NOT NULL DEFAULT 0,
    duration_seconds integer     NOT NULL DEFAULT 0,
    media_url        text        NOT NULL DEFAULT '',
    create_time      timestamptz,
    published        boolean     NOT NULL DEFAULT false,
    publish_time     timestamptz,
    publish_version  bigint      NOT NULL DEFAULT 0,
    view_count       bigint      NOT NULL DEFAULT 0,
    view_version     bigint      NOT NULL DEFAULT 0,
    like_count       bigint      NOT NULL DEFAULT 0,
    like_version     bigint      NOT NULL DEFAULT 0,
    comment_count    bigint      NOT NULL DEFAULT 0,
    comment_version  bigint      NOT NULL DEFAULT 0,
    -- A deleted video stays as a tombstone (content cleared) so that a late event cannot
    -- bring it back.
    deleted          boolean     NOT NULL DEFAULT false,
    -- domain.trending_score: engagement and publication time in one number, so ranking is
    -- an index scan; it is recomputed whenever a counter changes.
    trending_score   double precision NOT NULL DEFAULT 0,
    listed           boolean GENERATED ALWAYS AS (created AND published AND NOT deleted) STORED,
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, tags_text(tags)), 'B')
        || setweight(to_tsvector('english'::regconfig, description), 'C')
    ) STORED
);

-- ListVideos: public feed, newest publication first.
CREATE INDEX videos_feed ON videos (publish_time DESC, video_id DESC) WHERE listed;
-- ListVideos(followed_by_user_id) and ListChannelVideos: one channel, newest first.
CREATE INDEX videos_channel ON videos (owner_id, create_time DESC, video_id DESC) WHERE created AND NOT deleted;
-- Trending.
CREATE INDEX videos_trending ON videos (trending_score DESC, video_id DESC) WHERE listed;
-- SearchVideos.
CREATE INDEX videos_search ON videos USING gin (search);

-- Display names, joined at query time: a video may arrive before or after its uploader's
-- UserRegistered, and either way the name shows once both are here.
CREATE TABLE users (
    user_id      uuid PRIMARY KEY,
    display_name text NOT NULL
);

-- One row per (video, user) that ever liked; liked=false after an unlike, kept with its
-- version so a late VideoLiked cannot undo a newer unlike.
CREATE TABLE likes (
    video_id uuid    NOT NULL,
    user_id  uuid    NOT NULL,
    liked    boolean NOT NULL,
    version  bigint  NOT NULL,
    PRIMARY KEY (video_id, user_id)
);

CREATE TABLE comments (
    comment_id  uuid PRIMARY KEY,
    video_id    uuid        NOT NULL,
    author_id   uuid        NOT NULL,
    body        text        NOT NULL,
    create_time timestamptz NOT NULL
);
-- ListComments: oldest first.
CREATE INDEX comments_by_video ON comments (video_id, create_time, comment_id);

-- The follow graph for ListVideos(followed_by_user_id). Follow events are not versioned:
-- the envelope time of the last change wins, so a late event cannot undo a newer one.
CREATE TABLE follows (
    follower_id uuid        NOT NULL,
    channel_id  uuid        NOT NULL,
    following   boolean     NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (follower_id, channel_id)
);
