package admin_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ldapd/ldapd/admin"
)

// Generate an API token for demo_service as demo_user, a member of the
// group that manages it. (Not run: it needs a server.)
func Example() {
	ctx := context.Background()
	c, err := admin.Dial(ctx, admin.Config{URL: "ldaps://localhost:3636", CAFile: "data/tls/ca.pem"})
	if err != nil {
		log.Fatal(err) // e.g. "cannot reach the server at ldaps://localhost:3636: connection refused"
	}
	defer c.Close()
	if err := c.Bind(ctx, "demo_user", "password"); err != nil {
		log.Fatal(err)
	}
	tok, err := c.GenerateToken(ctx, "demo_service", admin.TokenRequest{Label: "Test Token"})
	if err != nil {
		log.Fatal(err) // e.g. "demo_user may not manage demo_service: not a member of demo_group"
	}
	fmt.Println(tok.Token) // use as the password of a bind to "dn=token"
}
