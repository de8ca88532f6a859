// Package postgres is the Postgres adapter of recommendations: the event handlers' Store
// on one transaction, and the Queries on the pool.
package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"vidmesh/services/recommendations/domain"
)

// Store is handlers.Store inside the consumer's transaction.
type Store struct{ tx pgx.Tx }

// NewStore wraps the transaction an event is applied in.
func NewStore(tx pgx.Tx) Store { return Store{tx} }

var stateNames = map[domain.State]string{
	domain.Unknown: "unknown", domain.Draft: "draft", domain.Published: "published", domain.Deleted: "deleted",
}

func stateOf(name string) domain.State {
	for state, known := range stateNames {
		if known == name {
			return state
		}
	}
	return domain.Unknown
}

// Video reads one video (a fresh Unknown one when absent), locking its row.
func (s Store) Video(ctx context.Context, id string) (domain.Video, error) {
	video := domain.Video{ID: id}
	var owner *string
	var state string
	var published *time.Time
	err := s.tx.QueryRow(ctx, `SELECT owner_id, state, version, published_at, like_count, view_count
		FROM videos WHERE video_id = $1 FOR UPDATE`, id).
		Scan(&owner, &state, &video.Version, &published, &video.LikeCount, &video.ViewCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return video, nil
	}
	if owner != nil {
		video.OwnerID = *owner
	}
	if published != nil {
		video.PublishedAt = *published
	}
	video.State = stateOf(state)
	return video, err
}

// SaveVideo writes the video, whole.
func (s Store) SaveVideo(ctx context.Context, v domain.Video) error {
	_, err := s.tx.Exec(ctx, `INSERT INTO videos (video_id, owner_id, state, version, published_at, like_count, view_count)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (video_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, state = EXCLUDED.state,
			version = EXCLUDED.version, published_at = EXCLUDED.published_at,
			like_count = EXCLUDED.like_count, view_count = EXCLUDED.view_count`,
		v.ID, nullable(v.OwnerID), stateNames[v.State], v.Version, nullableTime(v.PublishedAt), v.LikeCount, v.ViewCount)
	return err
}

// LockUser takes a transaction-scoped advisory lock on the user.
func (s Store) LockUser(ctx context.Context, userID string) error {
	_, err := s.tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "recommendations.user:"+userID)
	return err
}

// Likes are the videos the user likes.
func (s Store) Likes(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.tx.Query(ctx, "SELECT video_id::text FROM likes WHERE user_id = $1 ORDER BY video_id", userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// AddLike records a like; false when it was there already.
func (s Store) AddLike(ctx context.Context, userID, videoID string) (bool, error) {
	tag, err := s.tx.Exec(ctx, "INSERT INTO likes (user_id, video_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		userID, videoID)
	return tag.RowsAffected() == 1, err
}

// RemoveLike removes a like; false when there was none.
func (s Store) RemoveLike(ctx context.Context, userID, videoID string) (bool, error) {
	tag, err := s.tx.Exec(ctx, "DELETE FROM likes WHERE user_id = $1 AND video_id = $2", userID, videoID)
	return tag.RowsAffected() == 1, err
}

// ChangeCoLikes adds each delta to its pair's count, in one round trip. A count never
// goes below zero, even for an unlike that meets a pair it never counted.
func (s Store) ChangeCoLikes(ctx context.Context, deltas []domain.PairDelta) error {
	batch := &pgx.Batch{}
	for _, d := range deltas {
		batch.Queue(`INSERT INTO co_likes (video_id, other_id, likes) VALUES ($1, $2, GREATEST($3::bigint, 0))
			ON CONFLICT (video_id, other_id) DO UPDATE SET likes = GREATEST(co_likes.likes + $3::bigint, 0)`,
			d.A, d.B, d.Delta)
	}
	return s.tx.SendBatch(ctx, batch).Close()
}

// Follow records that followerID follows channelID.
func (s Store) Follow(ctx context.Context, followerID, channelID string) error {
	_, err := s.tx.Exec(ctx, "INSERT INTO follows (follower_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		followerID, channelID)
	return err
}

// Unfollow removes the follow.
func (s Store) Unfollow(ctx context.Context, followerID, channelID string) error {
	_, err := s.tx.Exec(ctx, "DELETE FROM follows WHERE follower_id = $1 AND channel_id = $2", followerID, channelID)
	return err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullableTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
