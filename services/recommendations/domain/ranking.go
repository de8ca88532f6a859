package domain

// Reason says why a video is recommended.
type Reason int

// The reasons, in the order lists show them.
const (
	CoLiked         Reason = iota + 1 // users who like this (or what you like) like it too
	FollowedChannel                   // new from a channel you follow
)

// Candidate is a video that may be recommended, with its score (users who like both for
// CoLiked; 0 for FollowedChannel).
type Candidate struct {
	VideoID string
	OwnerID string
	Score   int64
	Reason  Reason
}

// Page sizes: 0 asks for the default; the protos cap what may be asked.
const (
	DefaultPageSize = 10
	MaxPageSize     = 50
)

// PageSize is how many entries to return for a requested page size.
func PageSize(requested int) int {
	if requested <= 0 {
		return DefaultPageSize
	}
	return min(requested, MaxPageSize)
}

// Related is the related list of a video from its co-liked candidates, best first as
// given: never the video itself, at most limit entries.
func Related(video string, coLiked []Candidate, limit int) []Candidate {
	return merge(limit, map[string]bool{video: true}, coLiked)
}

// ForUser is a user's list: co-liked first, then new videos from followed channels, never
// one the user likes and no video twice, at most limit entries.
func ForUser(liked []string, coLiked, followed []Candidate, limit int) []Candidate {
	excluded := make(map[string]bool, len(liked))
	for _, id := range liked {
		excluded[id] = true
	}
	return merge(limit, excluded, coLiked, followed)
}

func merge(limit int, excluded map[string]bool, lists ...[]Candidate) []Candidate {
	out := make([]Candidate, 0, limit)
	for _, list := range lists {
		for _, candidate := range list {
			if len(out) == limit {
				return out
			}
			if excluded[candidate.VideoID] {
				continue
			}
			excluded[candidate.VideoID] = true
			out = append(out, candidate)
		}
	}
	return out
}
