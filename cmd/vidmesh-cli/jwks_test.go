package main

import (
	"strings"
	"testing"
)

// A P-256 public key (RFC 7515 appendix A.3).
const ecKey = `"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",` +
	`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"`

func TestAWellFormedECKeySetParses(t *testing.T) {
	set, err := ParseJWKSStrictly([]byte(`{"keys":[{` + ecKey + `}]}`))
	if err != nil || len(set.Key("k1")) != 1 {
		t.Fatalf("ParseJWKSStrictly = %v, %v", set, err)
	}
}

func TestEmptyRSAMembersOnAnECKeyAreRefused(t *testing.T) {
	_, err := ParseJWKSStrictly([]byte(`{"keys":[{` + ecKey + `,"n":"","e":""}]}`))
	if err == nil || !strings.Contains(err.Error(), `member "e" does not belong in a public EC key`) ||
		!strings.Contains(err.Error(), `member "n"`) {
		t.Errorf("error = %v, want both RSA members named", err)
	}
}

func TestPrivateMembersAndEmptySetsAreRefused(t *testing.T) {
	for _, body := range []string{`{"keys":[{` + ecKey + `,"d":"secret"}]}`, `{"keys":[]}`, `not json`,
		`{"keys":[{` + strings.Replace(ecKey, `"kid":"k1"`, `"kid":""`, 1) + `}]}`} {
		if _, err := ParseJWKSStrictly([]byte(body)); err == nil {
			t.Errorf("ParseJWKSStrictly(%s) accepted it", body)
		}
	}
}
