package console_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The seed's token workflow through the API: list, generate, use over
// LDAP, list again with the CLI's keys, destroy, and the bind then fails.
func TestTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)

	r := c.get("/v1/service-accounts/demo_service/api-tokens")
	want(t, r, http.StatusOK)
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("new account's tokens: %s, want []", r.body)
	}
	token, id := c.generate("demo_service", "Test Token", false)
	if out, code := e.tokenWhoami(t, token); code != 0 || !contains(out, "u: demo_service@idm.example.com") {
		t.Fatalf("ldapwhoami with the new token: exit %d: %s", code, out)
	}

	r = c.get("/v1/service-accounts/demo_service@idm.example.com/api-tokens")
	want(t, r, http.StatusOK)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 1 {
		t.Fatalf("tokens: %s", r.body)
	}
	var keys []string
	for k := range list[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// The keys of `ldapd service-account api-token status -o json`.
	if got := strings.Join(keys, " "); got != "expiry issued_at issued_by issued_by_dn label purpose token_id" {
		t.Fatalf("token keys %q", got)
	}
	tok := list[0]
	if tok["token_id"] != id || tok["label"] != "Test Token" || tok["purpose"] != "read-only" || tok["expiry"] != nil ||
		tok["issued_by"] != "demo_user" || tok["issued_by_dn"] != "uid=demo_user,"+people {
		t.Fatalf("token record %v", tok)
	}
	if _, err := time.Parse(time.RFC3339, tok["issued_at"].(string)); err != nil {
		t.Fatalf("issued_at: %v", err)
	}

	want(t, c.do("DELETE", "/v1/service-accounts/demo_service/api-tokens/"+id, nil, true), http.StatusNoContent)
	if out, code := e.tokenWhoami(t, token); code != 49 {
		t.Fatalf("ldapwhoami with the destroyed token: exit %d, want 49: %s", code, out)
	}
	want(t, c.do("DELETE", "/v1/service-accounts/demo_service/api-tokens/"+id, nil, true), http.StatusNotFound)
}

func TestGenerateWithExpiryAndReadWrite(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	exp := e.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r := c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "app", "expiry": exp, "rw": true})
	want(t, r, http.StatusCreated)
	var list []map[string]any
	c.get("/v1/service-accounts/demo_service/api-tokens").json(t, &list)
	if len(list) != 1 || list[0]["purpose"] != "read-write" || list[0]["expiry"] != exp {
		t.Fatalf("tokens %v, want one read-write expiring %s", list, exp)
	}
	past := e.Clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	r = c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "old", "expiry": past})
	want(t, r, http.StatusUnprocessableEntity)
	if !contains(r.errorText(t), "in the past") {
		t.Fatalf("past expiry: %s", r.body)
	}
	r = c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "x", "expiry": "tomorrow"})
	want(t, r, http.StatusBadRequest)
	r = c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": ""})
	want(t, r, http.StatusUnprocessableEntity)
}

// A non-manager is refused by idm, with a 403 JSON error, and nothing is
// created; it may not list or destroy either.
func TestNonManagerRefused(t *testing.T) {
	e := newEnv(t)
	mgr := e.signedIn(t, "demo_user", userPW)
	_, id := mgr.generate("demo_service", "kept", false)

	c := e.signedIn(t, "other_user", userPW)
	r := c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "stolen"})
	want(t, r, http.StatusForbidden)
	r.errorText(t)
	want(t, c.get("/v1/service-accounts/demo_service/api-tokens"), http.StatusForbidden)
	r = c.do("DELETE", "/v1/service-accounts/demo_service/api-tokens/"+id, nil, true)
	if r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
		t.Fatalf("non-manager destroy: %d %s", r.StatusCode, r.body)
	}
	var list []map[string]any
	mgr.get("/v1/service-accounts/demo_service/api-tokens").json(t, &list)
	if len(list) != 1 || list[0]["token_id"] != id {
		t.Fatalf("after the refusals the tokens are %v, want only %s", list, id)
	}
	want(t, c.get("/v1/service-accounts/nobody/api-tokens"), http.StatusNotFound)
}

// State-changing requests with a session need the session's X-CSRF-Token.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	for _, tc := range []struct{ name, header string }{{"missing", ""}, {"wrong", "not-the-token"}} {
		saved := c.csrf
		c.csrf = tc.header
		r := c.do("POST", "/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "csrf"}, tc.header != "")
		c.csrf = saved
		want(t, r, http.StatusForbidden)
		if !contains(r.errorText(t), "X-CSRF-Token") {
			t.Fatalf("%s CSRF token: %s", tc.name, r.body)
		}
	}
	r := c.get("/v1/service-accounts/demo_service/api-tokens")
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("a refused request created a token: %s", r.body)
	}
	want(t, c.do("POST", "/v1/logout", nil, false), http.StatusForbidden)
	want(t, c.get("/v1/whoami"), http.StatusOK) // still signed in
	// Another session's CSRF token does not fit this one.
	other := e.signedIn(t, "demo_user", userPW)
	c.csrf = other.csrf
	want(t, c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "x"}), http.StatusForbidden)
}

func TestRequestShape(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	// A body that is not JSON (what a cross-site form sends) is refused.
	req, _ := http.NewRequest("POST", e.web.URL+"/v1/service-accounts/demo_service/api-tokens", strings.NewReader("label=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.csrf)
	want(t, c.send(req), http.StatusUnsupportedMediaType)
	want(t, c.post("/v1/service-accounts/demo_service/api-tokens", map[string]any{"label": "x", "admin": true}), http.StatusBadRequest)
	r := c.get("/v1/nothing")
	want(t, r, http.StatusNotFound)
	r.errorText(t)
	want(t, c.do("DELETE", "/v1/service-accounts/demo_service/api-tokens/not-a-uuid", nil, true), http.StatusBadRequest)
	want(t, c.get("/v1/service-accounts/a,b=c/api-tokens"), http.StatusBadRequest)
	// A request from another origin is refused, even with the token.
	req, _ = http.NewRequest("GET", e.web.URL+"/v1/whoami", nil)
	req.Header.Set("Origin", "https://evil.example")
	want(t, c.send(req), http.StatusForbidden)
}

// Every answer carries the security headers, and the CSP allows no
// inline script.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	anon := e.client(t)
	for _, r := range []response{c.get("/"), c.get("/account"), anon.get("/login"), anon.get("/assets/console.js"),
		anon.get("/v1/whoami"), c.get("/v1/whoami"), c.get("/v1/nothing"), anon.get("/nothing")} {
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		if !contains(csp, "frame-ancestors 'none'") || !contains(csp, "script-src 'self'") || contains(csp, "unsafe") ||
			!contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", r.Request.URL.Path, csp)
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: headers %v", r.Request.URL.Path, h)
		}
	}
	if ct := anon.get("/assets/console.js").Header.Get("Content-Type"); !contains(ct, "javascript") {
		t.Errorf("script served as %q", ct)
	}
}
