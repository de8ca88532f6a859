-- The write model of the video context (CQRS command side). Read models live in
-- video_read and are built from the events the outbox publishes, never from these tables.
-- depends: mesh_0001_outbox

-- One row per video aggregate. A deleted video stays as a tombstone (state 'deleted') so
-- later commands answer NOT_FOUND and a second delete is a no-op with the final version.
-- fillfactor leaves room on each page so the hot view-counter UPDATE stays a HOT update
-- (no index column changes, the new row version fits on the same page).
CREATE TABLE videos (
    id               uuid        PRIMARY KEY,
    owner_id         uuid        NOT NULL,
    title            text        NOT NULL,
    description      text        NOT NULL DEFAULT '',
    duration_seconds integer     NOT NULL,
    tags             text[]      NOT NULL DEFAULT '{}',
    media_url        text        NOT NULL DEFAULT '',
    state            text        NOT NULL CHECK (state IN ('draft', 'published', 'deleted')),
    version          bigint      NOT NULL CHECK (version >= 1),
    view_count       bigint      NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    like_count       bigint      NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count    bigint      NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    create_time      timestamptz NOT NULL,
    publish_time     timestamptz
) WITH (fillfactor = 80);

-- Who likes what: the primary key makes a like once per user.
CREATE TABLE likes (
    video_id    uuid        NOT NULL REFERENCES videos (id),
    user_id     uuid        NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);

CREATE TABLE comments (
    id          uuid        PRIMARY KEY,
    video_id    uuid        NOT NULL REFERENCES videos (id),
    author_id   uuid        NOT NULL,
    body        text        NOT NULL,
    create_time timestamptz NOT NULL
);
CREATE INDEX comments_video_id ON comments (video_id);

-- Idempotent commands: a request_id is claimed in the command's transaction and its
-- response stored there too, so a retry (on any instance) gets the first answer.
CREATE TABLE requests (
    request_id  uuid        PRIMARY KEY,
    command     text        NOT NULL,
    response    jsonb,
    create_time timestamptz NOT NULL DEFAULT now()
);
