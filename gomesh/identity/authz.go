package identity

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	consul "github.com/hashicorp/consul/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// decisionTTL is how long an answer of the agent is reused: a changed intention takes
// effect within it (MESH.md: within seconds).
const decisionTTL = 2 * time.Second

type decision struct {
	allowed bool
	reason  string
	at      time.Time
}

// Authorizer decides every call to its identity from Consul's own answer
// (/v1/agent/connect/authorize evaluates the intentions by precedence, and treats one with
// L7 permissions as a deny, as MESH.md asks; it does not check the trust domain, so
// notOfThisMesh does). It fails closed: a
// caller without a SPIFFE id or of another trust domain is denied, and a call the agent
// cannot decide (unreachable, nothing cached) is refused with UNAVAILABLE.
type Authorizer struct {
	source *Source
	agent  *consul.Agent // with a short timeout: a call waits for this answer
	cache  sync.Map      // SPIFFE id -> decision
}

// NewAuthorizer authorizes calls to source's identity, asking the agent at address.
func NewAuthorizer(address string, source *Source) (*Authorizer, error) {
	cfg := consul.DefaultConfig()
	cfg.Address = address
	cfg.HttpClient = &http.Client{Timeout: time.Second}
	client, err := consul.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", address, err)
	}
	return &Authorizer{source: source, agent: client.Agent()}, nil
}

// Unary is the server interceptor for unary calls.
func (a *Authorizer) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (any, error) {
	if err := a.admit(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is the server interceptor for streaming calls (reflection among them).
func (a *Authorizer) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
	handler grpc.StreamHandler) error {
	if err := a.admit(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

func (a *Authorizer) admit(ctx context.Context, method string) error {
	uri := callerID(ctx)
	caller := uri
	if caller == "" {
		caller = "a caller without a SPIFFE id"
	}
	d, err := a.decide(uri)
	if err != nil {
		slog.WarnContext(ctx, "call refused: cannot decide", "caller", caller, "method", method, "error", err.Error())
		return status.Errorf(codes.Unavailable, "cannot decide whether %s may call %s now", caller, a.source.Service())
	}
	if !d.allowed {
		slog.WarnContext(ctx, "call refused", "caller", caller, "method", method, "reason", d.reason)
		return status.Errorf(codes.PermissionDenied, "%s may not call %s: %s", caller, a.source.Service(), d.reason)
	}
	return nil
}

func (a *Authorizer) decide(uri string) (decision, error) {
	if reason := a.notOfThisMesh(uri); reason != "" {
		return decision{reason: reason}, nil
	}
	if held, ok := a.cache.Load(uri); ok && time.Since(held.(decision).at) < decisionTTL {
		return held.(decision), nil
	}
	answer, err := a.agent.ConnectAuthorize(&consul.AgentAuthorizeParams{Target: a.source.Service(), ClientCertURI: uri})
	if err != nil {
		return decision{}, fmt.Errorf("consul authorize: %w", err)
	}
	d := decision{allowed: answer.Authorized, reason: answer.Reason, at: time.Now()}
	a.cache.Store(uri, d)
	return d, nil
}

// notOfThisMesh is why uri cannot be a service of this mesh ("" when it can be): Consul's
// authorize endpoint does not check the trust domain, so this does.
func (a *Authorizer) notOfThisMesh(uri string) string {
	if uri == "" {
		return "no SPIFFE id in its certificate"
	}
	parsed, err := url.Parse(uri)
	if err != nil || parsed.Scheme != "spiffe" || !strings.Contains(parsed.Path, "/svc/") {
		return "not a service SPIFFE id"
	}
	if domain := a.source.TrustDomain(); !strings.EqualFold(parsed.Host, domain) {
		return fmt.Sprintf("trust domain %s is not this mesh's (%s)", parsed.Host, domain)
	}
	return ""
}

// callerID is the SPIFFE id (the URI SAN) of the call's client certificate, "" without one.
func callerID(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return ""
	}
	return firstURI(info.State.PeerCertificates[0])
}

func firstURI(cert *x509.Certificate) string {
	for _, uri := range cert.URIs {
		if uri.Scheme == "spiffe" {
			return uri.String()
		}
	}
	return ""
}
