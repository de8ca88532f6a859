package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	webbffv1 "vidmesh/gen/go/vidmesh/webbff/v1"
)

type client struct {
	base string
	http *http.Client
}

type account struct{ id, email, token string }

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

// call sends a JSON request and decodes a 2xx JSON answer into out.
func (c *client) call(ctx context.Context, method, path, token string, body, out any) error {
	var payload io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, payload)
	if err != nil {
		return err
	}
	req.Header.Set("content-type", "application/json")
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: not the JSON the contract promises: %w", method, path, err)
	}
	return nil
}

func (c *client) signUp(ctx context.Context) (account, error) {
	email := "cli-" + randomHex(6) + "@example.test"
	password := "cli password " + randomHex(4)
	var registered struct {
		UserID string `json:"userId"`
	}
	err := c.call(ctx, http.MethodPost, "/api/auth/v1/register", "", map[string]string{
		"requestId": uuid.NewString(), "email": email, "password": password, "displayName": "Go CLI"}, &registered)
	if err != nil {
		return account{}, err
	}
	var login struct {
		UserID      string `json:"userId"`
		AccessToken string `json:"accessToken"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/auth/v1/login", "",
		map[string]string{"email": email, "password": password}, &login); err != nil {
		return account{}, err
	}
	if login.UserID != registered.UserID || login.AccessToken == "" {
		return account{}, fmt.Errorf("login answered user %q with token %q for user %q", login.UserID,
			login.AccessToken, registered.UserID)
	}
	return account{id: login.UserID, email: email, token: login.AccessToken}, nil
}

// jwks fetches the published key set and parses it strictly.
func (c *client) jwks(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/.well-known/jwks.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /.well-known/jwks.json: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /.well-known/jwks.json: HTTP %d", resp.StatusCode)
	}
	return ParseJWKSStrictly(body)
}

// verifyToken checks an ES256 access token against keys and returns its subject.
func verifyToken(token string, keys *jose.JSONWebKeySet) (string, error) {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", fmt.Errorf("the access token is not an ES256 JWT: %w", err)
	}
	if len(parsed.Headers) != 1 || parsed.Headers[0].KeyID == "" {
		return "", fmt.Errorf("the access token names no key (kid)")
	}
	found := keys.Key(parsed.Headers[0].KeyID)
	if len(found) != 1 {
		return "", fmt.Errorf("the JWKS has %d keys with kid %q, want 1", len(found), parsed.Headers[0].KeyID)
	}
	var claims jwt.Claims
	if err := parsed.Claims(found[0].Key, &claims); err != nil {
		return "", fmt.Errorf("the access token's signature does not verify: %w", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, 5*time.Second); err != nil {
		return "", fmt.Errorf("the access token's claims: %w", err)
	}
	return claims.Subject, nil
}

func (c *client) homeREST(ctx context.Context, user account) error {
	var home struct {
		SignedIn bool `json:"signedIn"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/web/v1/home", user.token, nil, &home); err != nil {
		return err
	}
	if !home.SignedIn {
		return fmt.Errorf("GET /api/web/v1/home with the token: signedIn is false")
	}
	return nil
}

func (c *client) homeGRPC(ctx context.Context, user account) error {
	target, err := url.Parse(c.base)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(target.Host, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+user.token),
		10*time.Second)
	defer cancel()
	home, err := webbffv1.NewWebBffServiceClient(conn).GetHome(ctx, &webbffv1.GetHomeRequest{})
	if err != nil {
		return fmt.Errorf("GetHome over gRPC: %w", err)
	}
	if !home.GetSignedIn() {
		return fmt.Errorf("GetHome over gRPC with the token: signed_in is false")
	}
	return nil
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}
