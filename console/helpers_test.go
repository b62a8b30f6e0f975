package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/console"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

const (
	base     = stacktest.Base
	people   = "ou=people," + base
	groups   = "ou=groups," + base
	services = "ou=services," + base
	userPW   = "demo user password 1"
)

// env is the whole stack on loopback plus the console over HTTPS on the
// LDAPS certificate, with the fixture of the seed: demo_user is a member
// of demo_group, which manages demo_service; other_user manages nothing.
type env struct {
	*stacktest.Stack
	web *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := stacktest.New(t)
	srv, err := console.New(console.Config{IDM: st.IDM, Now: st.Clock.Now, LDAPURL: st.URL()})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewUnstartedServer(srv)
	web.TLS = st.Srv.TLSConfig.Clone()
	web.StartTLS()
	t.Cleanup(web.Close)
	e := &env{Stack: st, web: web}
	ctx := context.Background()
	root := idm.RootIdentity()
	add := func(dn string, pairs ...string) {
		t.Helper()
		en := directory.NewEntry(directory.MustParseDN(dn))
		for i := 0; i+1 < len(pairs); i += 2 {
			en.Set(pairs[i], append(en.Get(pairs[i]), pairs[i+1])...)
		}
		if err := st.IDM.Add(ctx, root, en); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	for _, u := range []string{"demo_user", "other_user"} {
		add("uid="+u+","+people, "objectClass", "inetOrgPerson", "uid", u, "cn", u, "sn", u, "displayName", "The "+u)
		pw := userPW
		if _, err := st.IDM.PasswordModify(ctx, root, u, nil, &pw); err != nil {
			t.Fatal(err)
		}
	}
	add("cn=demo_group,"+groups, "objectClass", "groupOfNames", "cn", "demo_group", "member", "uid=demo_user,"+people)
	add("uid=demo_service,"+services, "objectClass", "ldapdServiceAccount", "uid", "demo_service",
		"displayName", "Demonstration Service", "entryManagedBy", "cn=demo_group,"+groups)
	return e
}

// client is a browser-like client: a cookie jar and the session's CSRF
// token once signed in.
type client struct {
	t    *testing.T
	e    *env
	http *http.Client
	csrf string
	// bearer, if set, is sent as "Authorization: Bearer".
	bearer string
}

func (e *env) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: e.web.Client().Transport, Jar: jar}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, e: e, http: hc}
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", r.Request.Method, r.Request.URL.Path, r.body, err)
	}
}

// errorText returns the "error" of a JSON error answer.
func (r response) errorText(t *testing.T) string {
	t.Helper()
	var e struct{ Error string }
	r.json(t, &e)
	if e.Error == "" {
		t.Fatalf("%s %s: %d without an error message: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.body)
	}
	return e.Error
}

// do sends a request with the CSRF header (unless csrf is false) and a
// JSON body (unless body is nil).
func (c *client) do(method, path string, body any, withCSRF bool) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.e.web.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if withCSRF && c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	return c.send(req)
}

// send sends req as it is and reads the answer.
func (c *client) send(req *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{resp, b}
}

func (c *client) get(path string) response { c.t.Helper(); return c.do("GET", path, nil, true) }
func (c *client) post(path string, body any) response {
	c.t.Helper()
	return c.do("POST", path, body, true)
}

// want fails the test unless r has status code.
func want(t *testing.T, r response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, code, r.body)
	}
}

// login signs c in and keeps the CSRF token.
func (c *client) login(name, pw string) response {
	c.t.Helper()
	r := c.post("/v1/login", map[string]string{"name": name, "password": pw})
	if r.StatusCode == http.StatusOK {
		var v struct{ CSRF string }
		r.json(c.t, &v)
		c.csrf = v.CSRF
	}
	return r
}

func (e *env) signedIn(t *testing.T, name, pw string) *client {
	t.Helper()
	c := e.client(t)
	want(t, c.login(name, pw), http.StatusOK)
	return c
}

// generate makes a token for account as c and returns it and its id.
func (c *client) generate(account, label string, rw bool) (string, string) {
	c.t.Helper()
	r := c.post("/v1/service-accounts/"+account+"/api-tokens", map[string]any{"label": label, "expiry": nil, "rw": rw})
	want(c.t, r, http.StatusCreated)
	var raw map[string]string
	r.json(c.t, &raw)
	if raw["token"] == "" || raw["token_id"] == "" || len(raw) != 2 {
		c.t.Fatalf("generate: %s", r.body)
	}
	return raw["token"], raw["token_id"]
}

// tokenWhoami runs ldapwhoami -D dn=token -w token and returns its output
// and exit status (49 when the bind is refused).
func (e *env) tokenWhoami(t *testing.T, token string) (string, int) {
	t.Helper()
	return e.Tool(t, "", "ldapwhoami", "-H", e.URL(), "-x", "-D", "dn=token", "-w", token)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
