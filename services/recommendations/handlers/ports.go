// Package handlers applies events and answers queries: each function takes a plain
// command or query and the ports it needs, and lets the domain decide. The Postgres
// adapter implements the ports; unit tests use the in-memory fakes of fakes_test.go.
package handlers

import (
	"context"

	"vidmesh/services/recommendations/domain"
)

// Store is one transaction's view of the recommendations data, for event handlers.
type Store interface {
	// Video is the video as known so far; a fresh Unknown one (ID set) if never heard of.
	Video(ctx context.Context, id string) (domain.Video, error)
	SaveVideo(ctx context.Context, video domain.Video) error
	// LockUser makes one user's likes change one transaction at a time (until commit), so
	// two likes of the same user in two partitions cannot miss each other.
	LockUser(ctx context.Context, userID string) error
	// Likes are the videos the user likes.
	Likes(ctx context.Context, userID string) ([]string, error)
	// AddLike and RemoveLike say whether they changed anything.
	AddLike(ctx context.Context, userID, videoID string) (bool, error)
	RemoveLike(ctx context.Context, userID, videoID string) (bool, error)
	ChangeCoLikes(ctx context.Context, deltas []domain.PairDelta) error
	Follow(ctx context.Context, followerID, channelID string) error
	Unfollow(ctx context.Context, followerID, channelID string) error
}

// Queries reads the recommendation lists, each sorted best first and bounded by limit.
type Queries interface {
	// CoLiked are published videos co-liked with videoID.
	CoLiked(ctx context.Context, videoID string, limit int) ([]domain.Candidate, error)
	// CoLikedForUser are published videos co-liked with the user's likes, none of which
	// the user likes, scored by the sum over the user's likes.
	CoLikedForUser(ctx context.Context, userID string, limit int) ([]domain.Candidate, error)
	// NewFromFollowed are published videos of the channels the user follows, newest
	// first, none of which the user likes.
	NewFromFollowed(ctx context.Context, userID string, limit int) ([]domain.Candidate, error)
	// LikedBy are the videos the user likes.
	LikedBy(ctx context.Context, userID string) ([]string, error)
}
