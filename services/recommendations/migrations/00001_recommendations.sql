-- recommendations' read model, built from video.v1 and users.v1 events. Tables land in
-- the role's own schema, `recommendations` (its search_path).

-- +goose Up
-- What is known of each video: only 'published' ones are recommended. version is the
-- newest event applied, so an older or replayed event changes nothing.
CREATE TABLE videos (
    video_id     uuid        PRIMARY KEY,
    owner_id     uuid,
    state        text        NOT NULL CHECK (state IN ('unknown', 'draft', 'published', 'deleted')),
    version      bigint      NOT NULL,
    published_at timestamptz,
    like_count   bigint      NOT NULL DEFAULT 0,
    view_count   bigint      NOT NULL DEFAULT 0
);
CREATE INDEX videos_owner_published ON videos (owner_id, published_at DESC) WHERE state = 'published';

-- Per-user signal: who likes what.
CREATE TABLE likes (
    user_id  uuid        NOT NULL,
    video_id uuid        NOT NULL,
    liked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);

-- How many users like both video_id and other_id; kept for both orders of each pair.
CREATE TABLE co_likes (
    video_id uuid   NOT NULL,
    other_id uuid   NOT NULL,
    likes    bigint NOT NULL CHECK (likes >= 0),
    PRIMARY KEY (video_id, other_id)
);
CREATE INDEX co_likes_ranked ON co_likes (video_id, likes DESC) WHERE likes > 0;

-- Per-user signal: who follows which channel (a channel id is its owner's user id).
CREATE TABLE follows (
    follower_id uuid NOT NULL,
    channel_id  uuid NOT NULL,
    PRIMARY KEY (follower_id, channel_id)
);

-- +goose Down
DROP TABLE follows;
DROP TABLE co_likes;
DROP TABLE likes;
DROP TABLE videos;
