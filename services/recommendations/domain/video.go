// Package domain is what recommendations knows and decides, in plain Go: no SQL, no
// protobuf, no Kafka. It learns videos, likes and follows from events and turns them into
// ranked lists: "viewers who liked this also liked" and "for you".
package domain

import "time"

// State is where a video is in its life, as far as recommendations has heard.
type State int

// The states; only Published videos are ever recommended.
const (
	Unknown   State = iota // heard of through a like or a view before its creation
	Draft                  // created, not yet visible
	Published              // visible to everyone
	Deleted                // gone for good
)

// Video is what recommendations keeps of a video.
type Video struct {
	ID          string
	OwnerID     string
	State       State
	Version     int64 // the version of the newest event applied
	PublishedAt time.Time
	LikeCount   int64
	ViewCount   int64
}

// Advance accepts an event of version for this video: false when the video has applied
// it or a later one already, so a replayed or older event changes nothing. The events of
// one video arrive in version order (one Kafka key); versions may skip (events this
// service does not read).
func (v *Video) Advance(version int64, ownerID string) bool {
	if version <= v.Version {
		return false
	}
	v.Version = version
	if ownerID != "" {
		v.OwnerID = ownerID
	}
	return true
}

// Create marks a video heard of before its creation as a draft.
func (v *Video) Create() {
	if v.State == Unknown {
		v.State = Draft
	}
}

// Publish makes the video recommendable, unless it was deleted.
func (v *Video) Publish(at time.Time) {
	if v.State != Deleted {
		v.State, v.PublishedAt = Published, at
	}
}

// Delete takes the video out of every list for good.
func (v *Video) Delete() { v.State = Deleted }
