package interceptors

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"vidmesh/gomesh/domainerr"
	"vidmesh/gomesh/textfields"
)

// A request whose bytes do not decode (a string field that is not UTF-8, above all) must be
// INVALID_ARGUMENT naming the field (MESH.md §6), but grpc-go answers any error of its codec
// with INTERNAL before an interceptor runs. So the server's codec hands such a request on,
// its bytes noted here, and the validation step refuses it (as mesh/validation.lenient does).
var undecodable sync.Map // the request message (a pointer) -> its bytes

type lenientCodec struct{ encoding.CodecV2 }

// LenientCodec is the server codec: the proto codec, which notes what it cannot decode.
func LenientCodec() grpc.ServerOption {
	return grpc.ForceServerCodecV2(lenientCodec{encoding.GetCodecV2("proto")})
}

func (c lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	message, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	undecodable.Store(message, data.Materialize())
	return nil
}

// undecoded is the bytes of a request its codec could not decode (and forgets them).
func undecoded(message proto.Message) ([]byte, bool) {
	data, ok := undecodable.LoadAndDelete(message)
	if !ok {
		return nil, false
	}
	return data.([]byte), true
}

// forgetUndecodable runs outermost: a request refused before the validation step (a deadline
// already passed) leaves nothing noted behind.
func forgetUndecodable(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	defer undecodable.Delete(req)
	return handler(ctx, req)
}

// refuseUndecodableStream runs outermost on streams, health and reflection included (which
// skip the rest of the chain): a message that did not decode ends the stream INVALID_ARGUMENT.
func refuseUndecodableStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, refusingStream{ss})
}

type refusingStream struct{ grpc.ServerStream }

func (s refusingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	message, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if data, bad := undecoded(message); bad {
		st, _ := domainerr.Status(invalid(textfields.Undecodable(message.ProtoReflect().Descriptor(), data)))
		return st.Err()
	}
	return nil
}
