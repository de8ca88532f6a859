package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Members a public key of each type may carry (RFC 7517 section 4 for every key, RFC 7518
// section 6 for each type's own). A private member ("d", "p", ...) in a published set, or a
// member of another key type (an EC key with "n" and "e"), is an error: a lenient library
// skips them, a strict client must not.
var (
	commonMembers = []string{"kty", "use", "key_ops", "alg", "kid", "x5u", "x5c", "x5t", "x5t#S256"}
	typeMembers   = map[string][]string{"EC": {"crv", "x", "y"}, "RSA": {"n", "e"}, "OKP": {"crv", "x"}}
)

// ParseJWKSStrictly is the key set in body, refusing what RFC 7517/7518 do not allow.
func ParseJWKSStrictly(body []byte) (*jose.JSONWebKeySet, error) {
	var raw struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("the JWKS is not a JSON key set: %w", err)
	}
	if len(raw.Keys) == 0 {
		return nil, errors.New("the JWKS holds no key")
	}
	var problems []string
	for i, key := range raw.Keys {
		problems = append(problems, keyProblems(i, key)...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the JWKS breaks RFC 7517/7518:\n  %s", strings.Join(problems, "\n  "))
	}
	set := &jose.JSONWebKeySet{}
	if err := json.Unmarshal(body, set); err != nil {
		return nil, fmt.Errorf("go-jose refuses the JWKS: %w", err)
	}
	return set, nil
}

func keyProblems(i int, key map[string]json.RawMessage) []string {
	var kty, kid string
	_ = json.Unmarshal(key["kty"], &kty)
	_ = json.Unmarshal(key["kid"], &kid)
	name := fmt.Sprintf("key %d (kid %q, kty %q)", i, kid, kty)
	own, known := typeMembers[kty]
	if !known {
		return []string{name + ": unknown key type"}
	}
	allowed := map[string]bool{}
	for _, member := range append(append([]string{}, commonMembers...), own...) {
		allowed[member] = true
	}
	var problems []string
	for _, member := range sortedKeys(key) {
		var text string
		switch {
		case !allowed[member]:
			problems = append(problems, fmt.Sprintf("%s: member %q does not belong in a public %s key", name, member, kty))
		case json.Unmarshal(key[member], &text) == nil && text == "":
			problems = append(problems, fmt.Sprintf("%s: member %q is empty", name, member))
		}
	}
	return problems
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for key := range m {
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}
