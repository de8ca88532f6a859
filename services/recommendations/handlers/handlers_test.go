package handlers

import (
	"context"
	"reflect"
	"testing"
	"time"

	"vidmesh/services/recommendations/domain"
)

var ctx = context.Background()

// world applies events in order, giving each video the next version.
type world struct {
	t        *testing.T
	m        *memory
	versions map[string]int64
}

func newWorld(t *testing.T) *world { return &world{t, newMemory(), map[string]int64{}} }

func (w *world) next(video string) VideoEvent {
	w.versions[video]++
	return VideoEvent{VideoID: video, OwnerID: "owner-of-" + video, Version: w.versions[video]}
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) publish(videos ...string) {
	for i, video := range videos {
		w.must(OnVideoCreated(ctx, w.m, VideoCreated{w.next(video)}))
		w.must(OnVideoPublished(ctx, w.m, VideoPublished{w.next(video), time.Unix(int64(1000+i), 0)}))
	}
}

func (w *world) like(user string, videos ...string) {
	for _, video := range videos {
		w.must(OnVideoLiked(ctx, w.m, VideoLiked{VideoEvent: w.next(video), UserID: user}))
	}
}

func (w *world) related(video string) []string {
	found, err := ListRelatedVideos(ctx, w.m, video, PageQuery{Size: 20})
	w.must(err)
	return ids(found.Videos)
}

func (w *world) forUser(user string) []string {
	found, err := ListForUser(ctx, w.m, user, PageQuery{Size: 20})
	w.must(err)
	return ids(found.Videos)
}

func ids(list []domain.Candidate) []string {
	out := []string{}
	for _, c := range list {
		out = append(out, c.VideoID)
	}
	return out
}

func TestRelatedListsCoLikedVideosMostCoLikedFirst(t *testing.T) {
	w := newWorld(t)
	w.publish("a", "b", "c", "d")
	w.like("u1", "a", "b", "c")
	w.like("u2", "a", "c")
	w.like("u3", "d") // likes nothing in common with a
	if got, want := w.related("a"), []string{"c", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("related(a) = %v, want %v", got, want)
	}
}

func TestUnlikeTakesTheCoLikeBack(t *testing.T) {
	w := newWorld(t)
	w.publish("a", "b")
	w.like("u1", "a", "b")
	w.must(OnVideoUnliked(ctx, w.m, VideoUnliked{VideoEvent: w.next("b"), UserID: "u1"}))
	if got := w.related("a"); len(got) != 0 {
		t.Errorf("related(a) after the unlike = %v, want none", got)
	}
}

func TestReplayedLikeChangesNoCount(t *testing.T) {
	w := newWorld(t)
	w.publish("a", "b")
	w.like("u1", "a")
	liked := VideoLiked{VideoEvent: w.next("b"), UserID: "u1"}
	for range 3 {
		w.must(OnVideoLiked(ctx, w.m, liked))
	}
	if got := w.m.coLikes[[2]string{"a", "b"}]; got != 1 {
		t.Errorf("co-likes(a, b) after a replayed like = %d, want 1", got)
	}
}

func TestUnpublishedAndDeletedVideosAreNeverRecommended(t *testing.T) {
	w := newWorld(t)
	w.publish("a", "b", "gone")
	w.must(OnVideoCreated(ctx, w.m, VideoCreated{w.next("draft")}))
	w.like("u1", "a", "b", "draft", "gone")
	w.must(OnVideoDeleted(ctx, w.m, VideoDeleted{w.next("gone")}))
	if got, want := w.related("a"), []string{"b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("related(a) = %v, want %v", got, want)
	}
}

func TestForUserListsCoLikedThenFollowedAndNeverWhatTheUserLikes(t *testing.T) {
	w := newWorld(t)
	w.publish("mine", "co", "followed-new", "followed-liked")
	w.like("me", "mine", "followed-liked")
	w.like("other", "mine", "co")
	w.must(OnChannelFollowed(ctx, w.m, ChannelFollowed{"me", "owner-of-followed-new"}))
	w.must(OnChannelFollowed(ctx, w.m, ChannelFollowed{"me", "owner-of-followed-liked"}))
	if got, want := w.forUser("me"), []string{"co", "followed-new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("forUser(me) = %v, want %v", got, want)
	}
	w.must(OnChannelUnfollowed(ctx, w.m, ChannelUnfollowed{"me", "owner-of-followed-new"}))
	if got, want := w.forUser("me"), []string{"co"}; !reflect.DeepEqual(got, want) {
		t.Errorf("forUser(me) after the unfollow = %v, want %v", got, want)
	}
}

func TestEveryLikeChangeLocksItsUser(t *testing.T) {
	w := newWorld(t)
	w.publish("a")
	w.like("u1", "a")
	if !reflect.DeepEqual(w.m.locked, []string{"u1"}) {
		t.Errorf("locked users = %v, want [u1]", w.m.locked)
	}
}

func TestPagesOfTheRelatedListFollowOneAnother(t *testing.T) {
	w := newWorld(t)
	w.publish("a", "b", "c", "d")
	w.like("u1", "a", "b", "c", "d")
	w.like("u2", "a", "c", "d")
	w.like("u3", "a", "d")
	first, err := ListRelatedVideos(ctx, w.m, "a", PageQuery{Size: 2})
	w.must(err)
	second, err := ListRelatedVideos(ctx, w.m, "a", PageQuery{Offset: 2, Size: 2})
	w.must(err)
	if !reflect.DeepEqual(ids(first.Videos), []string{"d", "c"}) || !first.More ||
		!reflect.DeepEqual(ids(second.Videos), []string{"b"}) || second.More {
		t.Errorf("pages = %v (more %v), %v (more %v)", ids(first.Videos), first.More, ids(second.Videos), second.More)
	}
}
