package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// TestSeedTokenExpiry: "service accounts can have expiry times"; a token
// whose expiry has passed no longer binds, nor serves a connection bound
// before; an expiry in the past, or malformed, is refused.
func TestSeedTokenExpiry(t *testing.T) {
	d := seedSetup(t)

	t.Run("a token stops working after its expiry", func(t *testing.T) {
		expiry := time.Now().Add(time.Hour).Truncate(time.Second)
		tk, id := d.generate(t, "demo_user", "demo_service", "Test Token", expiry.Format(time.RFC3339))
		kv := d.statusText(t, "demo_user")[id]
		if got, err := time.Parse(time.RFC3339, kv["expiry"]); err != nil || !got.Equal(expiry) {
			t.Errorf("status expiry %q, want %s", kv["expiry"], expiry.Format(time.RFC3339))
		}
		d.tokenWhoami(t, tk)
		bound := d.tokenConn(t, tk)

		d.Clock.Advance(2 * time.Hour)

		d.tokenRefused(t, tk)
		deadConn(t, bound)
		if !logHas(d, `"cause":"expired"`, id) {
			t.Errorf("the log does not say that token %s was refused as expired", id)
		}
		noTokenInLogs(t, d, tk)
	})

	t.Run("an expiry in the past is refused", func(t *testing.T) {
		// kanidm service-account api-token generate --name demo_user demo_service "Test Token" 2020-09-25T11:22:02+10:00
		for _, rw := range [][]string{nil, {"--rw"}} {
			args := append([]string{"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "Test Token", "2020-09-25T11:22:02+10:00"}, rw...)
			d.refused(t, 1, "ldapd service-account: expiry 2020-09-25T11:22:02+10:00 is in the past", args...)
		}
	})

	t.Run("a malformed expiry is refused", func(t *testing.T) {
		for _, exp := range []string{"2020-09-25", "2030-09-25T11:22:02", "2030-09-25 11:22:02+10:00", "tomorrow", "2030-13-01T00:00:00Z"} {
			d.refused(t, 2, fmt.Sprintf("expiry %q is not an RFC 3339 time", exp),
				"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "Test Token", exp)
		}
	})

	t.Run("the server checks the expiry with its own clock", func(t *testing.T) {
		records := len(d.statusJSON(t, "demo_user"))
		// A client whose clock is behind cannot get a token that the
		// server's clock says has already expired.
		c, err := admin.Dial(context.Background(), admin.Config{URL: d.LDAPSURL, CAFile: d.CAFile,
			Now: func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Bind(context.Background(), "demo_user", d.pw["demo_user"]); err != nil {
			t.Fatal(err)
		}
		_, err = c.GenerateToken(context.Background(), "demo_service", admin.TokenRequest{Label: "Test Token", Expiry: "2020-09-25T11:22:02+10:00"})
		if err == nil || !strings.Contains(err.Error(), "is in the past") {
			t.Errorf("server accepted an expiry in the past: %v", err)
		}
		// A malformed expiry sent as is.
		raw := d.Bind(t, "demo_user", d.pw["demo_user"])
		_, err = raw.Extended(generateTokenRequest(
			wire.GenerateToken{Account: demoServiceDN, Label: "Test Token", Expiry: "2030-09-25", HasExpiry: true}))
		if code := stacktest.ResultCode(err); code != ldap.LDAPResultUnwillingToPerform || !strings.Contains(err.Error(), "not an RFC 3339 time") {
			t.Errorf("server answer to a malformed expiry: %v", err)
		}
		if n := len(d.statusJSON(t, "demo_user")); n != records {
			t.Errorf("refused requests left records: %d tokens, want %d", n, records)
		}
	})
}
