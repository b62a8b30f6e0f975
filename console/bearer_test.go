package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/tokens"
)

// An API token in "Authorization: Bearer" acts as its service account:
// a read-only token may only GET; a read-write token of an account that
// manages itself rotates its own tokens, without a session or CSRF token.
func TestBearerTokens(t *testing.T) {
	e := newEnv(t)
	// demo_bot manages itself, so its own tokens may manage its tokens.
	bot := directory.NewEntry(directory.MustParseDN("uid=demo_bot," + services))
	bot.Set("objectClass", "ldapdServiceAccount")
	bot.Set("uid", "demo_bot")
	bot.Set("entryManagedBy", "cn=demo_group,"+groups)
	ctx, root := context.Background(), idm.RootIdentity()
	if err := e.IDM.Add(ctx, root, bot); err != nil {
		t.Fatal(err)
	}
	if err := e.IDM.Modify(ctx, root, bot.DN, []directory.Change{
		{Op: directory.ChangeReplace, Attr: "entryManagedBy", Values: []string{bot.DN.String()}}}); err != nil {
		t.Fatal(err)
	}
	ro, _, err := e.IDM.GenerateToken(ctx, root, "demo_bot", "reader", time.Time{}, tokens.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	rw, rwTokenID, err := e.IDM.GenerateToken(ctx, root, "demo_bot", "rotator", time.Time{}, tokens.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	rwID := rwTokenID.String()

	c := e.client(t)
	c.bearer = ro
	var who map[string]string
	r := c.get("/v1/whoami")
	want(t, r, http.StatusOK)
	r.json(t, &who)
	if who["spn"] != "demo_bot@idm.example.com" {
		t.Fatalf("bearer whoami %v", who)
	}
	want(t, c.get("/v1/service-accounts/demo_bot/api-tokens"), http.StatusOK)
	r = c.post("/v1/service-accounts/demo_bot/api-tokens", map[string]any{"label": "more"})
	want(t, r, http.StatusForbidden)
	if !strings.Contains(r.errorText(t), "read-only") {
		t.Fatalf("read-only bearer writing: %s", r.body)
	}
	want(t, c.do("DELETE", "/v1/service-accounts/demo_bot/api-tokens/"+rwID, nil, false), http.StatusForbidden)

	c.bearer = rw
	next, nextID := c.generate("demo_bot", "rotated", true)
	c.bearer = next
	want(t, c.do("DELETE", "/v1/service-accounts/demo_bot/api-tokens/"+rwID, nil, false), http.StatusNoContent)
	if _, code := e.tokenWhoami(t, rw); code != 49 {
		t.Fatalf("the rotated-out token still binds (exit %d)", code)
	}
	c.bearer = rw
	want(t, c.get("/v1/whoami"), http.StatusUnauthorized)
	// A bearer has no business with other accounts' tokens: idm says no.
	c.bearer = next
	want(t, c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "x"}), http.StatusForbidden)
	want(t, c.post("/v1/logout", nil), http.StatusBadRequest)
	_ = nextID

	for _, h := range []string{"Bearer garbage", "Basic Zm9vOmJhcg==", "Bearer "} {
		req, _ := http.NewRequest("GET", e.web.URL+"/v1/whoami", nil)
		req.Header.Set("Authorization", h)
		if r := c.send(req); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: %d", h, r.StatusCode)
		}
	}
}
