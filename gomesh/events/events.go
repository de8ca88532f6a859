// Package events reads vidmesh.events.v1.EventEnvelope, the Go twin of mesh/events.py:
// CloudEvents attributes around a google.protobuf.Any payload, both checked against their
// protovalidate rules. The payload's Go type is found from the Any type URL in the global
// registry, so the reading process must import the payload's generated package (a
// consumer does, to name its handlers).
package events

import (
	"fmt"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	"vidmesh/gomesh/textfields"
)

// Error is an envelope or payload that cannot be read or breaks its contract: a poison
// message, dead-lettered at once (retrying cannot fix it).
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

// TypeName is the full protobuf name of a message, e.g. "vidmesh.video.v1.VideoLiked",
// the name an envelope's type attribute carries.
func TypeName(msg proto.Message) string {
	return string(msg.ProtoReflect().Descriptor().FullName())
}

// Parse decodes and validates an envelope without touching its payload.
func Parse(value []byte) (*eventsv1.EventEnvelope, error) {
	env := &eventsv1.EventEnvelope{}
	if err := proto.Unmarshal(value, env); err != nil {
		return nil, &Error{fmt.Sprintf("not an EventEnvelope: %v", err)}
	}
	if err := validate(env, "envelope"); err != nil {
		return nil, err
	}
	if dataType := string(env.GetData().MessageName()); dataType != env.GetType() {
		return nil, &Error{fmt.Sprintf("envelope type %q does not match data type URL %q",
			env.GetType(), env.GetData().GetTypeUrl())}
	}
	return env, nil
}

// Payload is the envelope's data as an instance of its own generated type, validated.
func Payload(env *eventsv1.EventEnvelope) (proto.Message, error) {
	payload, err := env.GetData().UnmarshalNew()
	if err != nil {
		return nil, &Error{fmt.Sprintf("cannot unpack %s: %v", env.GetData().GetTypeUrl(), err)}
	}
	if err := validate(payload, "payload"); err != nil {
		return nil, err
	}
	return payload, nil
}

func validate(msg proto.Message, what string) error {
	if nul := textfields.Nul(msg); len(nul) > 0 { // Postgres could not store it: poison, not a retry
		return &Error{fmt.Sprintf("invalid %s %s: %s", what, TypeName(msg), nul[0])}
	}
	if err := protovalidate.Validate(msg); err != nil {
		return &Error{fmt.Sprintf("invalid %s %s: %v", what, TypeName(msg), err)}
	}
	return nil
}
