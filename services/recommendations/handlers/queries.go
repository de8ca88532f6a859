package handlers

import (
	"context"

	"vidmesh/services/recommendations/domain"
)

// ListRelatedVideos is the related list of a video (pageSize 0 means the default).
func ListRelatedVideos(ctx context.Context, q Queries, videoID string, pageSize int) ([]domain.Candidate, error) {
	limit := domain.PageSize(pageSize)
	// One more than asked: the video itself cannot be co-liked with itself, but the
	// domain rule is cheap to keep honest.
	coLiked, err := q.CoLiked(ctx, videoID, limit+1)
	if err != nil {
		return nil, err
	}
	return domain.Related(videoID, coLiked, limit), nil
}

// ListForUser is a user's "for you" list (pageSize 0 means the default).
func ListForUser(ctx context.Context, q Queries, userID string, pageSize int) ([]domain.Candidate, error) {
	limit := domain.PageSize(pageSize)
	liked, err := q.LikedBy(ctx, userID)
	if err != nil {
		return nil, err
	}
	coLiked, err := q.CoLikedForUser(ctx, userID, limit)
	if err != nil {
		return nil, err
	}
	// Enough followed videos to fill the page even when every co-liked one is among them.
	followed, err := q.NewFromFollowed(ctx, userID, 2*limit)
	if err != nil {
		return nil, err
	}
	return domain.ForUser(liked, coLiked, followed, limit), nil
}
