// Package identity gives a Go service the identity MESH.md §13 asks of every process, as
// mesh/identity.py and mesh/authz.py do for Python: its leaf certificate and the CA's roots
// come from the local Consul agent (/v1/agent/connect/ca/leaf/<name>, .../ca/roots) before
// it serves, renewed from blocking queries, so a rotated root reaches the next connection
// without a restart; its API port takes mutual TLS only, with a client certificate of that
// CA; and every call is authorized against the intentions (Authorizer).
package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	consul "github.com/hashicorp/consul/api"
)

const (
	blockFor   = 5 * time.Minute // how long one blocking query waits for a change
	retryFirst = 200 * time.Millisecond
	retryMax   = 5 * time.Second
)

// roots is the CA's trust anchors and the trust domain they speak for.
type roots struct {
	pool        *x509.CertPool
	trustDomain string
}

// Source follows one service's leaf and the CA's roots in the local agent.
type Source struct {
	agent   *consul.Agent
	service string // the identity: the topology name the certificate names
	leaf    atomic.Pointer[tls.Certificate]
	roots   atomic.Pointer[roots]
}

// NewSource follows the identity `service` at the agent `address` (host:port).
func NewSource(address, service string) (*Source, error) {
	cfg := consul.DefaultConfig()
	cfg.Address = address
	client, err := consul.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", address, err)
	}
	return &Source{agent: client.Agent(), service: service}, nil
}

// Service is the identity this source follows.
func (s *Source) Service() string { return s.service }

// TrustDomain is the CA's trust domain ("" before the roots are known).
func (s *Source) TrustDomain() string {
	if r := s.roots.Load(); r != nil {
		return r.trustDomain
	}
	return ""
}

// Start fetches the leaf and the roots (retrying until ctx ends), then keeps them renewed in
// the background until ctx ends.
func (s *Source) Start(ctx context.Context) error {
	leafIndex, rootsIndex := uint64(0), uint64(0)
	for delay := retryFirst; s.leaf.Load() == nil || s.roots.Load() == nil; delay = min(2*delay, retryMax) {
		var err error
		if s.roots.Load() == nil {
			rootsIndex, err = s.fetchRoots(ctx, 0)
		}
		if err == nil && s.leaf.Load() == nil {
			leafIndex, err = s.fetchLeaf(ctx, 0)
		}
		if err == nil {
			break
		}
		slog.WarnContext(ctx, "identity not fetched yet; retrying", "identity", s.service, "error", err.Error(),
			"retry_s", delay.Seconds())
		select {
		case <-ctx.Done():
			return fmt.Errorf("identity %s: %w", s.service, ctx.Err())
		case <-time.After(delay):
		}
	}
	slog.InfoContext(ctx, "identity ready", "identity", s.service, "trust_domain", s.TrustDomain())
	go s.follow(ctx, "roots", rootsIndex, s.fetchRoots)
	go s.follow(ctx, "leaf", leafIndex, s.fetchLeaf)
	return nil
}

// follow repeats a blocking query, which answers when its subject changes (a renewal, a
// rotation) or after blockFor; a failure keeps what is held and retries with backoff.
func (s *Source) follow(ctx context.Context, what string, index uint64,
	fetch func(context.Context, uint64) (uint64, error)) {
	delay := retryFirst
	for ctx.Err() == nil {
		next, err := fetch(ctx, index)
		if err == nil {
			if next != index {
				slog.InfoContext(ctx, "identity renewed", "identity", s.service, "part", what, "index", next)
			}
			index, delay = next, retryFirst
			continue
		}
		if ctx.Err() != nil {
			return
		}
		slog.WarnContext(ctx, "identity renewal failed; keeping the current one", "identity", s.service,
			"part", what, "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMax)
	}
}

func (s *Source) fetchLeaf(ctx context.Context, index uint64) (uint64, error) {
	q := (&consul.QueryOptions{WaitIndex: index, WaitTime: blockFor}).WithContext(ctx)
	leaf, meta, err := s.agent.ConnectCALeaf(s.service, q)
	if err != nil {
		return index, fmt.Errorf("leaf of %s: %w", s.service, err)
	}
	cert, err := tls.X509KeyPair([]byte(leaf.CertPEM), []byte(leaf.PrivateKeyPEM))
	if err != nil {
		return index, fmt.Errorf("leaf of %s: %w", s.service, err)
	}
	s.leaf.Store(&cert)
	return meta.LastIndex, nil
}

func (s *Source) fetchRoots(ctx context.Context, index uint64) (uint64, error) {
	q := (&consul.QueryOptions{WaitIndex: index, WaitTime: blockFor}).WithContext(ctx)
	list, meta, err := s.agent.ConnectCARoots(q)
	if err != nil {
		return index, fmt.Errorf("CA roots: %w", err)
	}
	pool := x509.NewCertPool()
	for _, root := range list.Roots {
		if !pool.AppendCertsFromPEM([]byte(root.RootCertPEM)) {
			return index, fmt.Errorf("CA root %s is not PEM", root.ID)
		}
	}
	if len(list.Roots) == 0 || list.TrustDomain == "" {
		return index, errors.New("the CA has no roots yet")
	}
	s.roots.Store(&roots{pool: pool, trustDomain: list.TrustDomain})
	return meta.LastIndex, nil
}

// ServerTLS is the API port's TLS: the current leaf, and a client certificate required that
// chains to one of the current roots. Each handshake reads what is held now.
func (s *Source) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			leaf, r := s.leaf.Load(), s.roots.Load()
			if leaf == nil || r == nil {
				return nil, errors.New("no identity yet")
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*leaf},
				ClientAuth:   tls.RequireAndVerifyClientCert,
				ClientCAs:    r.pool,
				NextProtos:   []string{"h2"},
			}, nil
		},
	}
}
