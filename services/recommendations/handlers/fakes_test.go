package handlers

import (
	"cmp"
	"context"
	"slices"

	"vidmesh/services/recommendations/domain"
)

// memory is an in-memory Store and Queries with the Postgres adapter's semantics.
type memory struct {
	videos  map[string]domain.Video
	likes   map[string]map[string]bool // user -> videos
	coLikes map[[2]string]int64
	follows map[string]map[string]bool // follower -> channels
	locked  []string
}

func newMemory() *memory {
	return &memory{videos: map[string]domain.Video{}, likes: map[string]map[string]bool{},
		coLikes: map[[2]string]int64{}, follows: map[string]map[string]bool{}}
}

func (m *memory) Video(_ context.Context, id string) (domain.Video, error) {
	if video, ok := m.videos[id]; ok {
		return video, nil
	}
	return domain.Video{ID: id}, nil
}

func (m *memory) SaveVideo(_ context.Context, video domain.Video) error {
	m.videos[video.ID] = video
	return nil
}

func (m *memory) LockUser(_ context.Context, userID string) error {
	m.locked = append(m.locked, userID)
	return nil
}

func (m *memory) Likes(_ context.Context, userID string) ([]string, error) {
	return sortedKeys(m.likes[userID]), nil
}

func (m *memory) AddLike(_ context.Context, userID, videoID string) (bool, error) {
	if m.likes[userID] == nil {
		m.likes[userID] = map[string]bool{}
	}
	added := !m.likes[userID][videoID]
	m.likes[userID][videoID] = true
	return added, nil
}

func (m *memory) RemoveLike(_ context.Context, userID, videoID string) (bool, error) {
	removed := m.likes[userID][videoID]
	delete(m.likes[userID], videoID)
	return removed, nil
}

func (m *memory) ChangeCoLikes(_ context.Context, deltas []domain.PairDelta) error {
	for _, d := range deltas {
		m.coLikes[[2]string{d.A, d.B}] += d.Delta
	}
	return nil
}

func (m *memory) Follow(_ context.Context, followerID, channelID string) error {
	if m.follows[followerID] == nil {
		m.follows[followerID] = map[string]bool{}
	}
	m.follows[followerID][channelID] = true
	return nil
}

func (m *memory) Unfollow(_ context.Context, followerID, channelID string) error {
	delete(m.follows[followerID], channelID)
	return nil
}

func (m *memory) CoLiked(_ context.Context, videoID string, limit int) ([]domain.Candidate, error) {
	scores := map[string]int64{}
	for pair, count := range m.coLikes {
		if pair[0] == videoID && count > 0 {
			scores[pair[1]] = count
		}
	}
	return m.ranked(scores, domain.CoLiked, limit), nil
}

func (m *memory) CoLikedForUser(_ context.Context, userID string, limit int) ([]domain.Candidate, error) {
	scores := map[string]int64{}
	for pair, count := range m.coLikes {
		if m.likes[userID][pair[0]] && !m.likes[userID][pair[1]] && count > 0 {
			scores[pair[1]] += count
		}
	}
	return m.ranked(scores, domain.CoLiked, limit), nil
}

func (m *memory) NewFromFollowed(_ context.Context, userID string, limit int) ([]domain.Candidate, error) {
	scores := map[string]int64{}
	for id, video := range m.videos {
		if m.follows[userID][video.OwnerID] && !m.likes[userID][id] {
			scores[id] = 0
		}
	}
	return m.ranked(scores, domain.FollowedChannel, limit), nil
}

func (m *memory) LikedBy(_ context.Context, userID string) ([]string, error) {
	return sortedKeys(m.likes[userID]), nil
}

// ranked keeps published videos, sorted as the SQL sorts them.
func (m *memory) ranked(scores map[string]int64, reason domain.Reason, limit int) []domain.Candidate {
	out := []domain.Candidate{}
	for id, score := range scores {
		if video := m.videos[id]; video.State == domain.Published {
			out = append(out, domain.Candidate{VideoID: id, OwnerID: video.OwnerID, Score: score, Reason: reason})
		}
	}
	slices.SortFunc(out, func(a, b domain.Candidate) int {
		va, vb := m.videos[a.VideoID], m.videos[b.VideoID]
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(vb.LikeCount, va.LikeCount),
			cmp.Compare(vb.ViewCount, va.ViewCount), vb.PublishedAt.Compare(va.PublishedAt),
			cmp.Compare(a.VideoID, b.VideoID))
	})
	return out[:min(limit, len(out))]
}

func sortedKeys(set map[string]bool) []string {
	out := []string{}
	for key, ok := range set {
		if ok {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}
