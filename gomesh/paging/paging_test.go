package paging

import (
	"errors"
	"testing"

	"vidmesh/gomesh/domainerr"
)

func TestATokenGoesBackToItsOffset(t *testing.T) {
	offset, err := Decode(Encode(40, "related:v1"), "related:v1")
	if err != nil || offset != 40 {
		t.Errorf("Decode(Encode(40)) = %d, %v", offset, err)
	}
	if offset, err := Decode("", "related:v1"); err != nil || offset != 0 {
		t.Errorf("the first page = %d, %v", offset, err)
	}
}

func TestForeignOrBrokenTokensNamePageToken(t *testing.T) {
	for _, token := range []string{Encode(40, "related:other"), "!!!", "e30", Encode(0, "related:v1")} {
		_, err := Decode(token, "related:v1")
		domain, ok := errors.AsType[*domainerr.Error](err)
		if !ok || domain.Kind != domainerr.InvalidArgument || domain.Violations[0].Field != Field {
			t.Errorf("Decode(%q) error = %v, want InvalidArgument on page_token", token, err)
		}
	}
}

func TestSize(t *testing.T) {
	if Size(0) != DefaultPageSize || Size(7) != 7 {
		t.Errorf("Size(0), Size(7) = %d, %d", Size(0), Size(7))
	}
}
