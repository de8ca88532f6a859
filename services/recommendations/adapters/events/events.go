// Package events maps the video.v1 and users.v1 events that recommendations reads onto
// its handlers: protobuf payload in, plain command out, applied on the consumer's
// transaction through the Postgres store.
package events

import (
	"context"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	usersv1 "vidmesh/gen/go/vidmesh/users/v1"
	videov1 "vidmesh/gen/go/vidmesh/video/v1"
	"vidmesh/gen/go/vidmesh/topology"
	"vidmesh/gomesh/consumer"
	"vidmesh/gomesh/events"
	"vidmesh/services/recommendations/adapters/postgres"
	"vidmesh/services/recommendations/handlers"
)

// Topics are the topics it reads: mesh/topology.py's `consumes` of recommendations.
var Topics = topology.Consumes["recommendations"]

// Handlers are the consumer's handlers, by event type.
func Handlers() map[string]consumer.Handler {
	return map[string]consumer.Handler{
		name(&videov1.VideoCreated{}): on(func(ctx context.Context, s handlers.Store, e *videov1.VideoCreated) error {
			return handlers.OnVideoCreated(ctx, s, handlers.VideoCreated{VideoEvent: video(e)})
		}),
		name(&videov1.VideoPublished{}): on(func(ctx context.Context, s handlers.Store, e *videov1.VideoPublished) error {
			return handlers.OnVideoPublished(ctx, s, handlers.VideoPublished{
				VideoEvent: video(e), PublishedAt: e.GetPublishTime().AsTime()})
		}),
		name(&videov1.VideoDeleted{}): on(func(ctx context.Context, s handlers.Store, e *videov1.VideoDeleted) error {
			return handlers.OnVideoDeleted(ctx, s, handlers.VideoDeleted{VideoEvent: video(e)})
		}),
		name(&videov1.VideoLiked{}): on(func(ctx context.Context, s handlers.Store, e *videov1.VideoLiked) error {
			return handlers.OnVideoLiked(ctx, s, handlers.VideoLiked{
				VideoEvent: video(e), UserID: e.GetUserId(), LikeCount: e.GetLikeCount()})
		}),
		name(&videov1.VideoUnliked{}): on(func(ctx context.Context, s handlers.Store, e *videov1.VideoUnliked) error {
			return handlers.OnVideoUnliked(ctx, s, handlers.VideoUnliked{
				VideoEvent: video(e), UserID: e.GetUserId(), LikeCount: e.GetLikeCount()})
		}),
		name(&videov1.VideoViewed{}): on(func(ctx context.Context, s handlers.Store, e *videov1.VideoViewed) error {
			return handlers.OnVideoViewed(ctx, s, handlers.VideoViewed{VideoEvent: video(e), ViewCount: e.GetViewCount()})
		}),
		name(&usersv1.UserFollowed{}): on(func(ctx context.Context, s handlers.Store, e *usersv1.UserFollowed) error {
			return handlers.OnChannelFollowed(ctx, s, handlers.ChannelFollowed{
				FollowerID: e.GetFollowerId(), ChannelID: e.GetChannelId()})
		}),
		name(&usersv1.UserUnfollowed{}): on(func(ctx context.Context, s handlers.Store, e *usersv1.UserUnfollowed) error {
			return handlers.OnChannelUnfollowed(ctx, s, handlers.ChannelUnfollowed{
				FollowerID: e.GetFollowerId(), ChannelID: e.GetChannelId()})
		}),
	}
}

func name(msg proto.Message) string { return events.TypeName(msg) }

// videoPayload is what every video.v1 payload carries.
type videoPayload interface {
	GetVideoId() string
	GetOwnerId() string
	GetVersion() int64
}

func video(e videoPayload) handlers.VideoEvent {
	return handlers.VideoEvent{VideoID: e.GetVideoId(), OwnerID: e.GetOwnerId(), Version: e.GetVersion()}
}

// on adapts a typed handler to the consumer's: the payload is already the right type
// (the consumer picked the handler by it), the store wraps the consumer's transaction.
func on[T proto.Message](apply func(context.Context, handlers.Store, T) error) consumer.Handler {
	return func(ctx context.Context, tx pgx.Tx, _ *eventsv1.EventEnvelope, payload proto.Message) error {
		return apply(ctx, postgres.NewStore(tx), payload.(T))
	}
}
