-- Accounts. The email is stored normalised (lower case), so UNIQUE makes addresses unique
-- regardless of case; the CHECK keeps a writer that forgot to normalise from breaking that.
-- follower_count is kept here, under the channel row's lock, so follow changes on one
-- channel are serialised and every follow event can carry the count after it.
CREATE TABLE accounts (
    user_id         uuid        PRIMARY KEY,
    email           text        NOT NULL UNIQUE CHECK (email = lower(email)),
    display_name    text        NOT NULL,
    password_hash   text        NOT NULL,
    follower_count  bigint      NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
