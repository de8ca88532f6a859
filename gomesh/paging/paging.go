// Package paging makes the page tokens of list RPCs whose order is a ranking rather than
// a key (mesh/paging.py makes keyset tokens for the Python services): a token says how
// many entries the previous pages showed, bound to the query that made it, so a token
// replayed with another query is refused instead of paging through someone else's list.
// Tokens are opaque to clients: base64url of a small JSON document.
package paging

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"vidmesh/gomesh/domainerr"
)

// DefaultPageSize is the page size when a request asks for 0, as in mesh/paging.py.
const DefaultPageSize = 20

// Field is the request field a bad token is reported on.
const Field = "page_token"

type document struct {
	Offset int    `json:"o"`
	Query  string `json:"q"`
}

// Size is the page size to use: 0 means the default (protovalidate caps the rest).
func Size(requested int32) int {
	if requested <= 0 {
		return DefaultPageSize
	}
	return int(requested)
}

// Encode is the next_page_token of a page of query that ends after offset entries.
func Encode(offset int, query string) string {
	raw, _ := json.Marshal(document{Offset: offset, Query: fingerprint(query)}) // cannot fail: two plain fields
	return base64.RawURLEncoding.EncodeToString(raw)
}

// Decode is how many entries to skip for token ("" is the first page); an InvalidArgument
// naming page_token when the token is not one Encode made for the same query.
func Decode(token, query string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var doc document
	if err != nil || json.Unmarshal(raw, &doc) != nil || doc.Offset <= 0 || doc.Query != fingerprint(query) {
		return 0, domainerr.Invalid(Field, "not a page token this service issued for this query")
	}
	return doc.Offset, nil
}

func fingerprint(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:8])
}
