package domain

import (
	"reflect"
	"testing"
	"time"
)

func TestAdvanceIgnoresReplayedAndOlderEvents(t *testing.T) {
	video := Video{ID: "v"}
	if !video.Advance(3, "owner") {
		t.Fatal("version 3 on a fresh video was refused")
	}
	for _, version := range []int64{3, 2} {
		if video.Advance(version, "someone else") {
			t.Errorf("version %d after 3 was accepted", version)
		}
	}
	if video.OwnerID != "owner" || video.Version != 3 {
		t.Errorf("video = %+v, want owner from version 3", video)
	}
}

func TestDeletedVideoStaysDeleted(t *testing.T) {
	video := Video{}
	video.Create()
	video.Publish(time.Unix(10, 0))
	video.Delete()
	video.Publish(time.Unix(20, 0))
	video.Create()
	if video.State != Deleted {
		t.Errorf("state = %v, want Deleted", video.State)
	}
}

func TestLikeAddedCountsOnePairEachWay(t *testing.T) {
	got := LikeAdded("a", []string{"b", "a", "c"})
	want := []PairDelta{{"a", "b", 1}, {"b", "a", 1}, {"a", "c", 1}, {"c", "a", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LikeAdded = %v, want %v", got, want)
	}
	if removed := LikeRemoved("a", []string{"b"}); removed[0].Delta != -1 || removed[1].Delta != -1 {
		t.Errorf("LikeRemoved = %v, want -1 each way", removed)
	}
}

func TestPageCutsTheRankingAndSaysWhetherMoreFollows(t *testing.T) {
	ranked := []Candidate{{VideoID: "a"}, {VideoID: "b"}, {VideoID: "c"}}
	tests := []struct {
		offset, size int
		want         []string
		more         bool
	}{
		{0, 2, []string{"a", "b"}, true},
		{2, 2, []string{"c"}, false},
		{0, 3, []string{"a", "b", "c"}, false},
		{3, 2, []string{}, false},
	}
	for _, test := range tests {
		page, more := Page(ranked, test.offset, test.size)
		if !reflect.DeepEqual(ids(page), test.want) || more != test.more {
			t.Errorf("Page(%d, %d) = %v, %v; want %v, %v", test.offset, test.size, ids(page), more, test.want, test.more)
		}
	}
	if Window(10, 20) != 31 || Window(490, 20) != MaxEntries+1 {
		t.Errorf("Window(10, 20), Window(490, 20) = %d, %d", Window(10, 20), Window(490, 20))
	}
}

func TestNoListGoesPastMaxEntries(t *testing.T) {
	ranked := make([]Candidate, MaxEntries+5)
	if page, more := Page(ranked, MaxEntries-1, 10); len(page) != 1 || more {
		t.Errorf("the last page has %d entries, more = %v; want 1, false", len(page), more)
	}
}

func ids(list []Candidate) []string {
	out := []string{}
	for _, c := range list {
		out = append(out, c.VideoID)
	}
	return out
}

func TestRelatedNeverListsTheVideoItself(t *testing.T) {
	got := Related("v", []Candidate{{VideoID: "x"}, {VideoID: "v"}, {VideoID: "y"}}, 10)
	if want := []string{"x", "y"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("Related = %v, want %v", ids(got), want)
	}
}

func TestForUserPutsCoLikedFirstAndSkipsLikedAndRepeats(t *testing.T) {
	coLiked := []Candidate{{VideoID: "c1", Reason: CoLiked}, {VideoID: "liked", Reason: CoLiked}}
	followed := []Candidate{{VideoID: "c1"}, {VideoID: "f1"}, {VideoID: "f2"}, {VideoID: "f3"}}
	tests := []struct {
		limit int
		want  []string
	}{
		{10, []string{"c1", "f1", "f2", "f3"}},
		{2, []string{"c1", "f1"}},
	}
	for _, test := range tests {
		got := ForUser([]string{"liked"}, coLiked, followed, test.limit)
		if !reflect.DeepEqual(ids(got), test.want) {
			t.Errorf("ForUser(limit %d) = %v, want %v", test.limit, ids(got), test.want)
		}
	}
}
