// Command vidmesh-cli is a user's own client in another language: it signs up and signs in
// through the gateway (REST), verifies the access token against the published JWKS with a
// strict JOSE check (go-jose, plus the RFC 7518 member rules a lenient library skips), then
// reads the web home through REST and through gRPC, both as that user. It uses only the
// public contracts: the REST routes and the generated Go stubs of the BFF's proto.
//
//	vidmesh-cli [-gateway http://127.0.0.1:8080] check   the whole tour; exit 1 on any failure
//	vidmesh-cli [-gateway ...] jwks                      only the strict JWKS check
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	gateway := flag.String("gateway", envOr("VIDMESH_GATEWAY_URL", "http://127.0.0.1:8080"), "the gateway's base URL")
	timeout := flag.Duration("timeout", 30*time.Second, "the bound on the whole run")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := newClient(*gateway)
	var err error
	switch flag.Arg(0) {
	case "check":
		err = check(ctx, client)
	case "jwks":
		_, err = client.jwks(ctx)
	default:
		fmt.Fprintln(os.Stderr, "usage: vidmesh-cli [-gateway URL] check|jwks")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vidmesh-cli: FAILED:", err)
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// check is the tour: each step says what it showed.
func check(ctx context.Context, c *client) error {
	user, err := c.signUp(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("signed up and in through REST as %s\n", user.id)
	keys, err := c.jwks(ctx)
	if err != nil {
		return err
	}
	subject, err := verifyToken(user.token, keys)
	if err != nil {
		return err
	}
	if subject != user.id {
		return fmt.Errorf("the token's subject is %q, not the user %q", subject, user.id)
	}
	fmt.Printf("the access token verifies against the JWKS (%d key(s), checked strictly); sub = %s\n",
		len(keys.Keys), subject)
	if err := c.homeREST(ctx, user); err != nil {
		return err
	}
	fmt.Println("GET /api/web/v1/home as the user: signedIn")
	if err := c.homeGRPC(ctx, user); err != nil {
		return err
	}
	fmt.Println("vidmesh.webbff.v1.WebBffService/GetHome over gRPC through the gateway as the user: signed_in")
	return nil
}
