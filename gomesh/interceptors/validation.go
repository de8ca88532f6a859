package interceptors

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"vidmesh/gomesh/domainerr"
	"vidmesh/gomesh/textfields"
)

// Validator checks a message against the protovalidate rules in its proto.
type Validator = protovalidate.Validator

// Validation rejects requests that break their rules, naming each field.
func Validation(v Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := Validate(v, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// ValidationStream validates each message a client sends on a stream.
func ValidationStream(v Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, validatingStream{ss, v})
	}
}

type validatingStream struct {
	grpc.ServerStream
	v Validator
}

func (s validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return Validate(s.v, m)
}

// Validate is a domainerr InvalidArgument naming every broken rule's field, or nil: first the
// string rule of MESH.md §6 (bytes that did not decode, a NUL), then the proto's rules. A rule
// that does not compile is a bug in the proto and comes back as a plain error (INTERNAL).
func Validate(v Validator, message any) error {
	msg, ok := message.(proto.Message)
	if !ok {
		return nil
	}
	if data, bad := undecoded(msg); bad {
		return invalid(textfields.Undecodable(msg.ProtoReflect().Descriptor(), data))
	}
	if nul := textfields.Nul(msg); len(nul) > 0 {
		return invalid(nul)
	}
	err := v.Validate(msg)
	validation, ok := errors.AsType[*protovalidate.ValidationError](err)
	if !ok {
		return err
	}
	violations := make([]domainerr.FieldViolation, 0, len(validation.Violations))
	for _, violation := range validation.Violations {
		description := violation.Proto.GetMessage()
		if description == "" {
			description = violation.Proto.GetRuleId()
		}
		violations = append(violations, domainerr.FieldViolation{
			Field: protovalidate.FieldPathString(violation.Proto.GetField()), Description: description})
	}
	return invalid(violations)
}

func invalid(violations []domainerr.FieldViolation) error {
	return domainerr.Invalid(violations[0].Field, violations[0].Description, violations[1:]...)
}
