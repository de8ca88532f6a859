// Package textfields is the string rule of MESH.md §6, as mesh/validation.py has it for
// Python: no string field (nested, repeated and map ones too) may hold a NUL (U+0000), which
// Postgres cannot store, or bytes that are not UTF-8, which no protobuf runtime can decode.
// Either is INVALID_ARGUMENT naming the field by its path (`title`, `tags[2]`, `author.name`).
package textfields

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"vidmesh/gomesh/domainerr"
)

const (
	// HasNul is the description of a field holding a NUL.
	HasNul = "must not contain the NUL character (U+0000)"
	// NotUTF8 is the description of a field whose bytes are not UTF-8.
	NotUTF8 = "must be valid UTF-8"
)

// Nul is every string of the message holding a NUL, by field path.
func Nul(message proto.Message) []domainerr.FieldViolation {
	return nulIn(message.ProtoReflect(), "")
}

func nulIn(message protoreflect.Message, prefix string) []domainerr.FieldViolation {
	var found []domainerr.FieldViolation
	message.Range(func(field protoreflect.FieldDescriptor, value protoreflect.Value) bool {
		path := prefix + string(field.Name())
		switch {
		case field.IsMap():
			value.Map().Range(func(key protoreflect.MapKey, item protoreflect.Value) bool {
				where := fmt.Sprintf("%s[%q]", path, key.String())
				if field.MapKey().Kind() == protoreflect.StringKind && strings.ContainsRune(key.String(), 0) {
					found = append(found, domainerr.FieldViolation{Field: where, Description: HasNul})
				}
				found = append(found, nulInValue(field.MapValue(), item, where)...)
				return true
			})
		case field.IsList():
			list := value.List()
			for i := range list.Len() {
				found = append(found, nulInValue(field, list.Get(i), fmt.Sprintf("%s[%d]", path, i))...)
			}
		default:
			found = append(found, nulInValue(field, value, path)...)
		}
		return true
	})
	return found
}

func nulInValue(field protoreflect.FieldDescriptor, value protoreflect.Value, path string) []domainerr.FieldViolation {
	switch field.Kind() {
	case protoreflect.StringKind:
		if strings.ContainsRune(value.String(), 0) {
			return []domainerr.FieldViolation{{Field: path, Description: HasNul}}
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return nulIn(value.Message(), path+".")
	}
	return nil
}

// Undecodable names the string fields of `data`, a message of type `descriptor` that did not
// decode, whose bytes are not UTF-8 (repeated fields and map entries by position); the
// message as a whole when none is, or when the bytes are not even wire format.
func Undecodable(descriptor protoreflect.MessageDescriptor, data []byte) []domainerr.FieldViolation {
	found, ok := notUTF8(descriptor, data, "")
	if !ok || len(found) == 0 {
		return []domainerr.FieldViolation{{Description: "the request is not a valid " + string(descriptor.FullName())}}
	}
	return found
}

func notUTF8(descriptor protoreflect.MessageDescriptor, data []byte, prefix string) ([]domainerr.FieldViolation, bool) {
	var found []domainerr.FieldViolation
	seen := map[protowire.Number]int{}
	for len(data) > 0 {
		number, wireType, n := protowire.ConsumeTag(data)
		if n < 0 {
			return found, false
		}
		data = data[n:]
		if wireType != protowire.BytesType {
			n = protowire.ConsumeFieldValue(number, wireType, data)
			if n < 0 {
				return found, false
			}
			data = data[n:]
			continue
		}
		chunk, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return found, false
		}
		data = data[n:]
		field := descriptor.Fields().ByNumber(number)
		if field == nil {
			continue
		}
		index := seen[number]
		seen[number] = index + 1
		path := prefix + string(field.Name())
		if field.IsList() || field.IsMap() {
			path = fmt.Sprintf("%s[%d]", path, index)
		}
		switch field.Kind() {
		case protoreflect.StringKind:
			if !utf8.Valid(chunk) {
				found = append(found, domainerr.FieldViolation{Field: path, Description: NotUTF8})
			}
		case protoreflect.MessageKind:
			nested, ok := notUTF8(field.Message(), chunk, path+".")
			found = append(found, nested...)
			if !ok {
				return found, false
			}
		}
	}
	return found, true
}
