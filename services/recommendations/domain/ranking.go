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

// MaxEntries is where every list ends, however it is paged: deeper pages of a ranking
// are noise, and each page is cut from the ranking's head.
const MaxEntries = 500

// Window is how many ranked entries the page at offset of size needs, one more to tell
// whether another page follows, within MaxEntries.
func Window(offset, size int) int {
	return min(offset+size+1, MaxEntries+1)
}

// Page cuts the page at offset of size from a ranked list; more says another page follows.
func Page(ranked []Candidate, offset, size int) (page []Candidate, more bool) {
	end := min(offset+size, len(ranked), MaxEntries)
	if offset >= end {
		return nil, false
	}
	return ranked[offset:end], end < min(len(ranked), MaxEntries)
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
