package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

func TestPages(t *testing.T) {
	e := newEnv(t)
	anon := e.client(t)
	for _, p := range []string{"/", "/account", "/admin"} {
		r := anon.get(p)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Fatalf("%s signed out: %d %s", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
	r := anon.get("/login")
	want(t, r, http.StatusOK)
	body := string(r.body)
	for _, s := range []string{`<label for="login-name">`, `<label for="login-password">`, `src="/assets/console.js"`} {
		if !strings.Contains(body, s) {
			t.Fatalf("login page lacks %q", s)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " on") && strings.Contains(body, "onclick") {
		t.Fatal("inline script or style on the login page")
	}

	u := e.signedIn(t, "demo_user", userPW)
	u.generate("demo_service", "Wiki <b>bold</b>", false)
	r = u.get("/")
	want(t, r, http.StatusOK)
	body = string(r.body)
	for _, s := range []string{"demo_service", "Demonstration Service", "Wiki &lt;b&gt;bold&lt;/b&gt;", `content="` + u.csrf + `"`, "read-only"} {
		if !strings.Contains(body, s) {
			t.Fatalf("accounts page lacks %q:\n%s", s, body)
		}
	}
	want(t, u.get("/account"), http.StatusOK)
	want(t, u.get("/admin"), http.StatusOK)

	o := e.signedIn(t, "other_user", userPW)
	if b := string(o.get("/").body); strings.Contains(b, "demo_service") || !strings.Contains(b, "You manage no service accounts") {
		t.Fatal("a non-manager sees demo_service on its page")
	}
}

// A display name carrying markup is shown as text.
func TestPagesEscapeDisplayNames(t *testing.T) {
	e := newEnv(t)
	evil := `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">`
	err := e.IDM.Modify(context.Background(), idm.RootIdentity(), directory.MustParseDN("uid=demo_service,"+services),
		[]directory.Change{{Op: directory.ChangeReplace, Attr: "displayName", Values: []string{evil}}})
	if err != nil {
		t.Fatal(err)
	}
	u := e.signedIn(t, "demo_user", userPW)
	for _, p := range []string{"/", "/admin"} {
		b := string(u.get(p).body)
		if strings.Contains(b, "<script>window") || strings.Contains(b, "<img src=x") {
			t.Fatalf("%s: markup from a display name is in the page", p)
		}
		if !strings.Contains(b, "&lt;script&gt;window.pwned=1&lt;/script&gt;") {
			t.Fatalf("%s: the display name is not shown as text", p)
		}
	}
}
