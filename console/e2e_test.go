//go:build e2e

package console_test

// The real-browser test: Debian's headless Chromium driven by chromedp
// against the console on loopback. Run with `make e2e` (which installs
// chromium when missing); CONSOLE_SCREENSHOTS=DIR also saves a PNG of each
// page there (docs/console/).

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

// browser starts a fresh headless Chromium that trusts only the web
// server's own certificate (by its public key).
func browser(t *testing.T, e *env) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: apt-get install chromium (make e2e does)")
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(e.web.URL, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
	conn.Close()
	// Not t.TempDir: Chromium's helpers may still write into their profile
	// for a moment after the browser is gone, which would fail the test's
	// cleanup. This cleanup runs after the browser's (LIFO).
	profile, err := os.MkdirTemp("", "ldapd-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a screenshot of the page as NAME.png in CONSOLE_SCREENSHOTS.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func signIn(t *testing.T, ctx context.Context, e *env, name, pw string) {
	t.Helper()
	run(t, ctx, "sign in as "+name,
		chromedp.Navigate(e.web.URL+"/login"),
		chromedp.WaitVisible("#login-name", chromedp.ByID),
		chromedp.SendKeys("#login-name", name, chromedp.ByID),
		chromedp.SendKeys("#login-password", pw, chromedp.ByID),
		chromedp.Click(`#login-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#sign-out", chromedp.ByID),
	)
}

func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t, e)
	start := time.Now()

	run(t, ctx, "open the sign-in page", chromedp.Navigate(e.web.URL+"/"), chromedp.WaitVisible("#login-form", chromedp.ByID))
	// A wrong password is said in words, on the page.
	var msg string
	run(t, ctx, "wrong password",
		chromedp.SendKeys("#login-name", "demo_user", chromedp.ByID),
		chromedp.SendKeys("#login-password", "wrong", chromedp.ByID),
		chromedp.Click(`#login-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#login-error", chromedp.ByID),
		chromedp.Text("#login-error", &msg, chromedp.ByID))
	if !strings.Contains(msg, "wrong name or password") {
		t.Fatalf("sign-in error %q", msg)
	}
	shot(t, ctx, "login")

	signIn(t, ctx, e, "demo_user", userPW)
	sel := `section[data-account="demo_service"]`
	var token string
	run(t, ctx, "generate a token",
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.SendKeys("#label-demo_service", "CI token", chromedp.ByID),
		chromedp.Click(sel+` form.generate button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(sel+` .new-token .token-value`, chromedp.ByQuery),
		chromedp.WaitVisible(sel+` tr[data-token] button.destroy`, chromedp.ByQuery),
		chromedp.Text(sel+` .new-token .token-value`, &token, chromedp.ByQuery))
	token = strings.TrimSpace(token)
	if out, code := e.tokenWhoami(t, token); code != 0 || !strings.Contains(out, "u: demo_service@idm.example.com") {
		t.Fatalf("ldapwhoami with the token read from the page: exit %d: %s", code, out)
	}
	shot(t, ctx, "service-accounts")

	var status string
	run(t, ctx, "destroy it, confirming",
		chromedp.Click(sel+` tr[data-token] button.destroy`, chromedp.ByQuery),
		chromedp.WaitVisible(sel+` button.destroy[data-armed="yes"]`, chromedp.ByQuery),
		chromedp.Click(sel+` button.destroy[data-armed="yes"]`, chromedp.ByQuery),
		chromedp.WaitVisible(sel+` tr.empty`, chromedp.ByQuery),
		chromedp.Text(sel+` .status`, &status, chromedp.ByQuery))
	if !strings.Contains(status, "destroyed") {
		t.Fatalf("status after destroy: %q", status)
	}
	if out, code := e.tokenWhoami(t, token); code != 49 {
		t.Fatalf("ldapwhoami with the destroyed token: exit %d, want 49: %s", code, out)
	}

	run(t, ctx, "my account", chromedp.Navigate(e.web.URL+"/account"), chromedp.WaitVisible("#password-form", chromedp.ByID))
	shot(t, ctx, "account")
	run(t, ctx, "administration", chromedp.Navigate(e.web.URL+"/admin"), chromedp.WaitVisible("form.admin-form", chromedp.ByQuery))

	// A refusal from idm, in words, on the page.
	var refusal string
	run(t, ctx, "a refused administration request",
		chromedp.SendKeys("#p-name", "mallory", chromedp.ByID),
		chromedp.Click(`form[data-endpoint="/v1/people"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[data-endpoint="/v1/people"] .result .error`, chromedp.ByQuery),
		chromedp.Text(`form[data-endpoint="/v1/people"] .result .error`, &refusal, chromedp.ByQuery))
	if !strings.HasPrefix(refusal, "Error: ") {
		t.Fatalf("refusal shown as %q", refusal)
	}
	shot(t, ctx, "admin-refused")

	// Sign out; the cookie the browser held no longer works.
	var cookies []*network.Cookie
	run(t, ctx, "read the session cookie", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().Do(ctx)
		return err
	}))
	var old string
	for _, c := range cookies {
		if c.Name == "__Host-ldapd_session" {
			old = c.Value
			if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
				t.Fatalf("cookie %+v", c)
			}
		}
	}
	if old == "" {
		t.Fatalf("no session cookie in %v", cookies)
	}
	run(t, ctx, "sign out", chromedp.Click("#sign-out", chromedp.ByID), chromedp.WaitVisible("#login-form", chromedp.ByID))
	req, _ := http.NewRequest("GET", e.web.URL+"/v1/whoami", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-ldapd_session", Value: old})
	want(t, e.client(t).send(req), http.StatusUnauthorized)

	// A display name (server-rendered) and a token label (rendered by the
	// script) carrying markup do not run.
	evil := `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`
	if err := e.IDM.Modify(context.Background(), idm.RootIdentity(), directory.MustParseDN("uid=demo_service,"+services),
		[]directory.Change{{Op: directory.ChangeReplace, Attr: "displayName", Values: []string{evil}}}); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, e, "demo_user", userPW)
	var pwned, shown string
	run(t, ctx, "injected markup",
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.SendKeys("#label-demo_service", `<img src=y onerror="window.pwned=3">`, chromedp.ByID),
		chromedp.Click(sel+` form.generate button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(sel+` tr[data-token] button.destroy`, chromedp.ByQuery),
		// No element came from the markup (so no onerror can ever fire),
		// and nothing ran: the one script is the console's own.
		chromedp.Evaluate(`document.querySelectorAll("main img").length + "/" + document.scripts.length + "/" + String(window.pwned)`, &pwned),
		chromedp.Text(sel+` .display-name`, &shown, chromedp.ByQuery))
	if pwned != "0/1/undefined" {
		t.Fatalf("injected markup became elements or ran: images/scripts/window.pwned = %s", pwned)
	}
	if !strings.Contains(shown, "<script>") {
		t.Fatalf("display name shown as %q, want the markup as text", shown)
	}
	t.Logf("browser flow took %v", time.Since(start).Round(time.Millisecond))
}
