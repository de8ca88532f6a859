package identity

import (
	"strings"
	"testing"
)

// The checks the authorizer makes itself, before asking Consul (which does not check the
// trust domain): the refusals reach the caller as PERMISSION_DENIED.
func TestOnlyServiceIDsOfThisTrustDomainAreAskedAbout(t *testing.T) {
	source := &Source{service: "recommendations"}
	source.roots.Store(&roots{trustDomain: "11111111-2222.consul"})
	a := &Authorizer{source: source}
	cases := map[string]string{
		"": "no SPIFFE id",
		"https://11111111-2222.consul/ns/default/dc/dc1/svc/web-bff":     "not a service SPIFFE id",
		"spiffe://11111111-2222.consul/agent/client/dc/dc1/id/x":         "not a service SPIFFE id",
		"spiffe://other.consul/ns/default/dc/dc1/svc/web-bff":            "trust domain other.consul",
		"spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/web-bff":    "",
		"spiffe://11111111-2222.CONSUL/ns/default/dc/dc1/svc/mobile-bff": "",
	}
	for uri, want := range cases {
		got := a.notOfThisMesh(uri)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("notOfThisMesh(%q) = %q, want %q", uri, got, want)
		}
	}
}
