package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidmesh/services/recommendations/domain"
)

// Queries is handlers.Queries on the pool. Every list sorts ties the same way: more
// likes, then more views, then newer, then by id, so a page is stable.
type Queries struct{ pool *pgxpool.Pool }

// NewQueries reads through pool.
func NewQueries(pool *pgxpool.Pool) Queries { return Queries{pool} }

const tieBreak = "v.like_count DESC, v.view_count DESC, v.published_at DESC, v.video_id"

// CoLiked are published videos co-liked with videoID, most co-liked first.
func (q Queries) CoLiked(ctx context.Context, videoID string, limit int) ([]domain.Candidate, error) {
	return q.candidates(ctx, domain.CoLiked, `SELECT v.video_id::text, v.owner_id::text, c.likes
		FROM co_likes c JOIN videos v ON v.video_id = c.other_id
		WHERE c.video_id = $1 AND c.likes > 0 AND v.state = 'published'
		ORDER BY c.likes DESC, `+tieBreak+` LIMIT $2`, videoID, limit)
}

// CoLikedForUser sums the co-likes over the user's likes, leaving out what the user likes.
func (q Queries) CoLikedForUser(ctx context.Context, userID string, limit int) ([]domain.Candidate, error) {
	return q.candidates(ctx, domain.CoLiked, `SELECT v.video_id::text, v.owner_id::text, sum(c.likes)::bigint AS score
		FROM likes l JOIN co_likes c ON c.video_id = l.video_id JOIN videos v ON v.video_id = c.other_id
		WHERE l.user_id = $1 AND c.likes > 0 AND v.state = 'published'
		  AND NOT EXISTS (SELECT FROM likes mine WHERE mine.user_id = $1 AND mine.video_id = v.video_id)
		GROUP BY v.video_id
		ORDER BY score DESC, `+tieBreak+` LIMIT $2`, userID, limit)
}

// NewFromFollowed are the newest published videos of the channels the user follows.
func (q Queries) NewFromFollowed(ctx context.Context, userID string, limit int) ([]domain.Candidate, error) {
	return q.candidates(ctx, domain.FollowedChannel, `SELECT v.video_id::text, v.owner_id::text, 0::bigint
		FROM follows f JOIN videos v ON v.owner_id = f.channel_id
		WHERE f.follower_id = $1 AND v.state = 'published'
		  AND NOT EXISTS (SELECT FROM likes mine WHERE mine.user_id = $1 AND mine.video_id = v.video_id)
		ORDER BY v.published_at DESC, v.video_id LIMIT $2`, userID, limit)
}

// LikedBy are the videos the user likes.
func (q Queries) LikedBy(ctx context.Context, userID string) ([]string, error) {
	rows, err := q.pool.Query(ctx, "SELECT video_id::text FROM likes WHERE user_id = $1", userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (q Queries) candidates(ctx context.Context, reason domain.Reason, sql string, args ...any) ([]domain.Candidate, error) {
	rows, err := q.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Candidate, error) {
		c := domain.Candidate{Reason: reason}
		err := row.Scan(&c.VideoID, &c.OwnerID, &c.Score)
		return c, err
	})
}
