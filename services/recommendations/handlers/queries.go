package handlers

import (
	"context"

	"vidmesh/services/recommendations/domain"
)

// PageQuery selects one page of a list: its size and how many entries earlier pages showed.
type PageQuery struct {
	Offset int
	Size   int
}

// Page is one page of a list; More says another page follows.
type Page struct {
	Videos []domain.Candidate
	More   bool
}

// ListRelatedVideos is a page of the related list of a video.
func ListRelatedVideos(ctx context.Context, q Queries, videoID string, page PageQuery) (Page, error) {
	window := domain.Window(page.Offset, page.Size)
	coLiked, err := q.CoLiked(ctx, videoID, window)
	if err != nil {
		return Page{}, err
	}
	return cut(domain.Related(videoID, coLiked, window), page), nil
}

// ListForUser is a page of a user's "for you" list.
func ListForUser(ctx context.Context, q Queries, userID string, page PageQuery) (Page, error) {
	window := domain.Window(page.Offset, page.Size)
	liked, err := q.LikedBy(ctx, userID)
	if err != nil {
		return Page{}, err
	}
	coLiked, err := q.CoLikedForUser(ctx, userID, window)
	if err != nil {
		return Page{}, err
	}
	// The followed list may repeat every co-liked video, so it fills the window on its own.
	followed, err := q.NewFromFollowed(ctx, userID, window)
	if err != nil {
		return Page{}, err
	}
	return cut(domain.ForUser(liked, coLiked, followed, window), page), nil
}

func cut(ranked []domain.Candidate, page PageQuery) Page {
	videos, more := domain.Page(ranked, page.Offset, page.Size)
	return Page{Videos: videos, More: more}
}
