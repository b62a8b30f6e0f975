package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/console"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

func TestLoginCookieWhoamiLogout(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	want(t, c.get("/v1/whoami"), http.StatusUnauthorized)
	r := c.login("demo_user@idm.example.com", userPW)
	want(t, r, http.StatusOK)
	if c.csrf == "" {
		t.Fatalf("login answer without csrf: %s", r.body)
	}
	ck := r.Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-ldapd_session" || !ck[0].Secure || !ck[0].HttpOnly ||
		ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" || len(ck[0].Value) < 40 {
		t.Fatalf("session cookie %+v", ck)
	}
	var who map[string]string
	c.get("/v1/whoami").json(t, &who)
	if who["dn"] != "uid=demo_user,"+people || who["spn"] != "demo_user@idm.example.com" || len(who) != 2 {
		t.Fatalf("whoami %v", who)
	}
	// The same account by DN and by bare name.
	want(t, e.client(t).login("uid=demo_user,"+people, userPW), http.StatusOK)

	// Sign out; the old cookie, replayed, no longer works.
	old := ck[0].Value
	want(t, c.post("/v1/logout", nil), http.StatusNoContent)
	want(t, c.get("/v1/whoami"), http.StatusUnauthorized)
	replay := e.client(t)
	req, _ := http.NewRequest("GET", e.web.URL+"/v1/whoami", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-ldapd_session", Value: old})
	want(t, replay.send(req), http.StatusUnauthorized)
}

// Sign-in failures are one 401, logged as security events by idm, and
// counted by idm's bind throttle: after repeated failures even the right
// password is refused.
func TestLoginFailuresThrottled(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, pw string }{
		{"demo_user", "wrong"}, {"nobody", "x"}, {"demo_user", ""}, {"", userPW}, {"dn=token", "x"},
	} {
		r := e.client(t).login(tc.name, tc.pw)
		want(t, r, http.StatusUnauthorized)
		if r.errorText(t) != "wrong name or password" {
			t.Fatalf("%q: %s", tc.name, r.body)
		}
	}
	if !strings.Contains(e.Logs(), `"bind_name":"demo_user","cause":"bad_password"`) {
		t.Fatalf("the failed sign-in is not in the security log:\n%s", e.Logs())
	}
	for range 30 {
		e.client(t).login("demo_user", "guess")
	}
	r := e.client(t).login("demo_user", userPW)
	want(t, r, http.StatusUnauthorized)
	if !strings.Contains(e.Logs(), "throttled") {
		t.Fatal("no throttle line in the log")
	}
	e.Clock.Advance(time.Hour)
	want(t, e.client(t).login("demo_user", userPW), http.StatusOK)
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	e.Clock.Advance(console.DefaultIdleTimeout - time.Second)
	want(t, c.get("/v1/whoami"), http.StatusOK)
	e.Clock.Advance(console.DefaultIdleTimeout)
	r := c.get("/v1/whoami")
	want(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.errorText(t), "session has ended") {
		t.Fatalf("idle: %s", r.body)
	}

	c = e.signedIn(t, "demo_user", userPW)
	for elapsed := time.Duration(0); elapsed < console.DefaultMaxAge-10*time.Minute; elapsed += 10 * time.Minute {
		e.Clock.Advance(10 * time.Minute)
		want(t, c.get("/v1/whoami"), http.StatusOK)
	}
	e.Clock.Advance(10 * time.Minute)
	want(t, c.get("/v1/whoami"), http.StatusUnauthorized)
	// An expired session's page sends the browser to sign in.
	r = c.get("/")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("page with an expired session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// A password changed elsewhere (here over LDAP, by an admin) or a
// disabled account ends the account's sessions.
func TestSessionEndsWhenAccountChanges(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	e.Clock.Advance(time.Second)
	pw := "new password by the admin"
	if out, code := e.Tool(t, "", "ldappasswd", "-H", e.URL(), "-x", "-D", "uid=idm_admin,"+people, "-w", e.IDMAdminPW,
		"-s", pw, "uid=demo_user,"+people); code != 0 {
		t.Fatalf("ldappasswd: %d %s", code, out)
	}
	r := c.get("/v1/whoami")
	want(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.errorText(t), "changed") {
		t.Fatalf("after a password change: %s", r.body)
	}

	c = e.signedIn(t, "demo_user", pw)
	e.Clock.Advance(time.Second)
	err := e.IDM.Modify(context.Background(), idm.RootIdentity(), directory.MustParseDN("uid=demo_user,"+people),
		[]directory.Change{{Op: directory.ChangeReplace, Attr: directory.AttrAccountDisabled, Values: []string{"TRUE"}}})
	if err != nil {
		t.Fatal(err)
	}
	want(t, c.get("/v1/whoami"), http.StatusUnauthorized)
	want(t, e.client(t).login("demo_user", pw), http.StatusUnauthorized)
}

// Changing one's password in the console ends every session of the
// account, the new password binds over LDAP, a wrong old one is refused.
func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, "demo_user", userPW)
	other := e.signedIn(t, "demo_user", userPW)
	r := c.post("/v1/password", map[string]string{"old": "wrong", "new": "x"})
	if r.StatusCode < 400 {
		t.Fatalf("wrong old password: %d", r.StatusCode)
	}
	if !strings.Contains(r.errorText(t), "old password") {
		t.Fatalf("wrong old password: %s", r.body)
	}
	want(t, c.post("/v1/password", map[string]string{"old": userPW, "new": "brand new pw"}), http.StatusNoContent)
	want(t, c.get("/v1/whoami"), http.StatusUnauthorized)
	want(t, other.get("/v1/whoami"), http.StatusUnauthorized)
	if out, code := e.Tool(t, "", "ldapwhoami", "-H", e.URL(), "-x", "-D", "uid=demo_user,"+people, "-w", "brand new pw"); code != 0 {
		t.Fatalf("bind with the new password: %d %s", code, out)
	}
}
