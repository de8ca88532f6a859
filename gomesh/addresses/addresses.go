// Package addresses turns host names into IP addresses the way every vidmesh process does
// (mesh/addresses.py): Envoy refuses a host name in an endpoint and proxyless gRPC accepts
// only IP literals, so whatever reaches the registry is an IP. Under Compose a name resolves
// through Docker's DNS; the native stack writes its own hosts map (VIDMESH_HOSTS_FILE),
// whose names win over DNS, because /etc/hosts is machine-wide.
package addresses

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// Resolver resolves with the stack's map first (re-read when the file changes), then DNS.
type Resolver struct {
	HostsFile string

	mu    sync.Mutex
	mtime time.Time
	names map[string]string
}

// ParseHosts is name -> address from hosts-file text (`ADDRESS NAME [ALIAS...]`, # comments).
func ParseHosts(text string) map[string]string {
	names := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(strings.SplitN(line, "#", 2)[0])
		if len(fields) < 2 || net.ParseIP(fields[0]) == nil {
			continue
		}
		for _, name := range fields[1:] {
			if _, seen := names[name]; !seen {
				names[name] = fields[0]
			}
		}
	}
	return names
}

// Resolve is the IP literal for host (an IP comes back as it is); an error naming the host
// when neither the map nor DNS knows it.
func (r *Resolver) Resolve(ctx context.Context, host string) (string, error) {
	bare := strings.Trim(host, "[]")
	if net.ParseIP(bare) != nil {
		return bare, nil
	}
	if mapped, ok := r.mapped()[host]; ok {
		return mapped, nil
	}
	found, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(found) == 0 {
		where := "DNS"
		if r.HostsFile != "" {
			where = r.HostsFile + " or DNS"
		}
		return "", fmt.Errorf("host name %q is not in %s: %v", host, where, err)
	}
	for _, address := range found { // IPv4 first: every vidmesh listener binds an IPv4 address
		if address.IP.To4() != nil {
			return address.IP.String(), nil
		}
	}
	return found[0].IP.String(), nil
}

func (r *Resolver) mapped() map[string]string {
	if r.HostsFile == "" {
		return nil
	}
	info, err := os.Stat(r.HostsFile)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !info.ModTime().Equal(r.mtime) {
		if text, err := os.ReadFile(r.HostsFile); err == nil {
			r.names, r.mtime = ParseHosts(string(text)), info.ModTime()
		}
	}
	return r.names
}
