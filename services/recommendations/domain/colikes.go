package domain

// PairDelta changes how many users like both A and B (a count kept for each ordered pair,
// so a lookup by either video finds the other).
type PairDelta struct {
	A, B  string
	Delta int64
}

// LikeAdded is what a user's new like of video does to the co-like counts: one more user
// likes both video and each of the others the user likes. The counts then hold, whatever
// order the likes of different videos arrive in, that count(A, B) is the number of users
// whose likes of both have been applied, provided one user's likes change one at a time.
func LikeAdded(video string, others []string) []PairDelta {
	return pairs(video, others, +1)
}

// LikeRemoved is the reverse of LikeAdded, for an unlike.
func LikeRemoved(video string, others []string) []PairDelta {
	return pairs(video, others, -1)
}

func pairs(video string, others []string, delta int64) []PairDelta {
	out := make([]PairDelta, 0, 2*len(others))
	for _, other := range others {
		if other == video {
			continue
		}
		out = append(out, PairDelta{video, other, delta}, PairDelta{other, video, delta})
	}
	return out
}
