-- The follow graph: a user (follower) follows a channel (its owner's user id).
-- depends: users_0001_accounts
CREATE TABLE follows (
    channel_id   uuid        NOT NULL REFERENCES accounts (user_id),
    follower_id  uuid        NOT NULL REFERENCES accounts (user_id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, follower_id),
    CHECK (follower_id <> channel_id)
);

-- "Whom does this user follow" reads go by follower.
CREATE INDEX follows_by_follower ON follows (follower_id);
