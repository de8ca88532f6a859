package addresses

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseHostsReadsAddressesAndAliases(t *testing.T) {
	got := ParseHosts("# the stack\n127.0.10.5 recommendations-0 rec # first\nnot-an-ip name\n127.0.10.6 rec\n")
	want := map[string]string{"recommendations-0": "127.0.10.5", "rec": "127.0.10.5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseHosts = %v, want %v", got, want)
	}
}

func TestResolvePrefersTheStacksMapAndPassesIPsThrough(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.10.5 recommendations-0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{HostsFile: hosts}
	for host, want := range map[string]string{"recommendations-0": "127.0.10.5", "127.0.0.9": "127.0.0.9",
		"[::1]": "::1", "localhost": "127.0.0.1"} {
		if got, err := r.Resolve(context.Background(), host); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
	if _, err := r.Resolve(context.Background(), "no-such-host.invalid"); err == nil {
		t.Error("an unknown name resolved")
	}
}
