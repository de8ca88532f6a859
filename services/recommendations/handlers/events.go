package handlers

import (
	"context"
	"time"

	"vidmesh/services/recommendations/domain"
)

// VideoEvent is what every video event says: which video, its owner and its version.
type VideoEvent struct {
	VideoID string
	OwnerID string
	Version int64
}

// VideoCreated: a draft exists.
type VideoCreated struct{ VideoEvent }

// VideoPublished: the video became visible at PublishedAt.
type VideoPublished struct {
	VideoEvent
	PublishedAt time.Time
}

// VideoDeleted: the video is gone.
type VideoDeleted struct{ VideoEvent }

// VideoLiked and VideoUnliked: UserID started or stopped liking the video, which then
// has LikeCount likes.
type VideoLiked struct {
	VideoEvent
	UserID    string
	LikeCount int64
}

// VideoUnliked is the end of a like.
type VideoUnliked VideoLiked

// VideoViewed: the video has ViewCount views.
type VideoViewed struct {
	VideoEvent
	ViewCount int64
}

// ChannelFollowed and ChannelUnfollowed: FollowerID started or stopped following.
type ChannelFollowed struct{ FollowerID, ChannelID string }

// ChannelUnfollowed is the end of a follow.
type ChannelUnfollowed ChannelFollowed

// OnVideoCreated records a draft.
func OnVideoCreated(ctx context.Context, s Store, e VideoCreated) error {
	return changeVideo(ctx, s, e.VideoEvent, func(v *domain.Video) error { v.Create(); return nil })
}

// OnVideoPublished makes the video recommendable.
func OnVideoPublished(ctx context.Context, s Store, e VideoPublished) error {
	return changeVideo(ctx, s, e.VideoEvent, func(v *domain.Video) error { v.Publish(e.PublishedAt); return nil })
}

// OnVideoDeleted takes the video out of every list.
func OnVideoDeleted(ctx context.Context, s Store, e VideoDeleted) error {
	return changeVideo(ctx, s, e.VideoEvent, func(v *domain.Video) error { v.Delete(); return nil })
}

// OnVideoViewed keeps the view count (a tie-breaker of the rankings).
func OnVideoViewed(ctx context.Context, s Store, e VideoViewed) error {
	return changeVideo(ctx, s, e.VideoEvent, func(v *domain.Video) error { v.ViewCount = e.ViewCount; return nil })
}

// OnVideoLiked records the like and counts it with each other video the user likes.
func OnVideoLiked(ctx context.Context, s Store, e VideoLiked) error {
	return changeVideo(ctx, s, e.VideoEvent, func(v *domain.Video) error {
		v.LikeCount = e.LikeCount
		return changeLike(ctx, s, e.UserID, e.VideoID, s.AddLike, domain.LikeAdded)
	})
}

// OnVideoUnliked reverses OnVideoLiked.
func OnVideoUnliked(ctx context.Context, s Store, e VideoUnliked) error {
	return changeVideo(ctx, s, e.VideoEvent, func(v *domain.Video) error {
		v.LikeCount = e.LikeCount
		return changeLike(ctx, s, e.UserID, e.VideoID, s.RemoveLike, domain.LikeRemoved)
	})
}

// OnChannelFollowed records a follow.
func OnChannelFollowed(ctx context.Context, s Store, e ChannelFollowed) error {
	return s.Follow(ctx, e.FollowerID, e.ChannelID)
}

// OnChannelUnfollowed removes a follow.
func OnChannelUnfollowed(ctx context.Context, s Store, e ChannelUnfollowed) error {
	return s.Unfollow(ctx, e.FollowerID, e.ChannelID)
}

// changeVideo applies change to the video if the event is newer than what it has seen.
func changeVideo(ctx context.Context, s Store, e VideoEvent, change func(*domain.Video) error) error {
	video, err := s.Video(ctx, e.VideoID)
	if err != nil {
		return err
	}
	if !video.Advance(e.Version, e.OwnerID) {
		return nil
	}
	if err := change(&video); err != nil {
		return err
	}
	return s.SaveVideo(ctx, video)
}

func changeLike(ctx context.Context, s Store, userID, videoID string,
	change func(context.Context, string, string) (bool, error), deltas func(string, []string) []domain.PairDelta) error {
	if err := s.LockUser(ctx, userID); err != nil {
		return err
	}
	changed, err := change(ctx, userID, videoID)
	if err != nil || !changed {
		return err
	}
	others, err := s.Likes(ctx, userID)
	if err != nil {
		return err
	}
	return s.ChangeCoLikes(ctx, deltas(videoID, others))
}
