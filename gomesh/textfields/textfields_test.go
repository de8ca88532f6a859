package textfields_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/structpb"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/domainerr"
	"vidmesh/gomesh/textfields"
)

func paths(violations []domainerr.FieldViolation) []string {
	out := []string{}
	for _, v := range violations {
		out = append(out, v.Field)
	}
	return out
}

func TestNulNamesEveryStringHoldingOneNestedRepeatedAndMapOnesToo(t *testing.T) {
	message, err := structpb.NewStruct(map[string]any{"ok": "fine", "bad": "a\x00b", "list": []any{"x", "y\x00"}})
	if err != nil {
		t.Fatal(err)
	}
	got := paths(textfields.Nul(message))
	want := map[string]bool{`fields["bad"].string_value`: true, `fields["list"].list_value.values[1].string_value`: true}
	if len(got) != len(want) || !want[got[0]] || !want[got[1]] {
		t.Errorf("Nul named %v, want %v", got, want)
	}
	if clean := textfields.Nul(&recommendationsv1.ListForUserRequest{UserId: "fine"}); len(clean) != 0 {
		t.Errorf("a message without NUL: %v", clean)
	}
}

func TestUndecodableNamesTheStringThatIsNotUTF8(t *testing.T) {
	descriptor := (&recommendationsv1.ListForUserRequest{}).ProtoReflect().Descriptor()
	data := protowire.AppendTag(nil, 2, protowire.VarintType)
	data = protowire.AppendVarint(data, 10)
	data = protowire.AppendTag(data, 1, protowire.BytesType)
	data = protowire.AppendBytes(data, []byte{'a', 0xed, 0xa0, 0x80})
	if got := paths(textfields.Undecodable(descriptor, data)); len(got) != 1 || got[0] != "user_id" {
		t.Errorf("Undecodable named %v, want [user_id]", got)
	}
	whole := textfields.Undecodable(descriptor, []byte{0x0f})
	if len(whole) != 1 || whole[0].Field != "" {
		t.Errorf("bytes that are not wire format: %v, want the message as a whole", whole)
	}
}
