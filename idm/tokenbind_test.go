package idm_test

// Token bind through idm.Service.Bind (docs/design.md section 5): every failure is
// ErrInvalidCredentials with one message whatever the cause, the log names
// the cause (and the token id where known) and never the token, and a
// revocation, expiry, deletion or disabling also ends the sessions already
// bound with the token.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/tokens"
)

type fixture struct {
	s               *stacktest.Stack
	admin, idmAdmin idm.Identity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := stacktest.New(t)
	f := &fixture{s: s}
	var err error
	if f.admin, err = s.IDM.Bind(context.Background(), "admin", []byte(s.AdminPW)); err != nil {
		t.Fatal(err)
	}
	if f.idmAdmin, err = s.IDM.Bind(context.Background(), "idm_admin", []byte(s.IDMAdminPW)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) serviceDN(name string) directory.DN {
	return directory.MustParseDN("uid=" + name + ",ou=services," + stacktest.Base)
}

// createService adds a service account managed by idm_admin, as idm_admin.
func (f *fixture) createService(t *testing.T, name string) directory.DN {
	t.Helper()
	e := directory.NewEntry(f.serviceDN(name))
	e.Set("objectClass", "top", directory.ClassServiceAccount)
	e.Set("uid", name)
	e.Set("displayName", "Service "+name)
	e.Set(directory.AttrEntryManagedBy, f.idmAdmin.DN.String())
	if err := f.s.IDM.Add(context.Background(), f.idmAdmin, e); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return e.DN
}

func (f *fixture) deleteEntry(t *testing.T, as idm.Identity, dn directory.DN) {
	t.Helper()
	if err := f.s.IDM.Delete(context.Background(), as, dn); err != nil {
		t.Fatalf("delete %s: %v", dn, err)
	}
}

func (f *fixture) generate(t *testing.T, account string, expiry time.Time, p tokens.Purpose) (string, tokens.ID) {
	t.Helper()
	tk, id, err := f.s.IDM.GenerateToken(context.Background(), f.idmAdmin, account, "Test Token", expiry, p)
	if err != nil {
		t.Fatalf("generate for %s: %v", account, err)
	}
	return tk, id
}

// serviceToken creates the service account name and generates it a token
// of purpose p that does not expire.
func (f *fixture) serviceToken(t *testing.T, name string, p tokens.Purpose) (directory.DN, string, tokens.ID) {
	t.Helper()
	dn := f.createService(t, name)
	tk, id := f.generate(t, name, time.Time{}, p)
	return dn, tk, id
}

func (f *fixture) entryUUID(t *testing.T, dn directory.DN) [16]byte {
	t.Helper()
	var u uuid.UUID
	err := f.s.Store.View(context.Background(), func(tx directory.ReadTx) error {
		e, err := tx.Get(dn)
		if err != nil {
			return err
		}
		u, err = uuid.Parse(e.First("entryUUID"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// bind binds with the token and fails the test unless it works. It binds
// twice and uses the identity once, so that the token-state cache and the
// identity's memo (memo.go) hold this state when a test then changes it.
func (f *fixture) bind(t *testing.T, token string) idm.Identity {
	t.Helper()
	var id idm.Identity
	for range 2 {
		var err error
		if id, err = f.s.IDM.Bind(context.Background(), "dn=token", []byte(token)); err != nil {
			t.Fatalf("token bind: %v", err)
		}
	}
	if err := f.s.IDM.Check(context.Background(), id); err != nil {
		t.Fatalf("check right after bind: %v", err)
	}
	return id
}

func recordDN(account directory.DN, id tokens.ID) directory.DN {
	return account.Child(directory.NewRDN(directory.AVA{Type: directory.AttrTokenID, Value: id.String()}))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// replaceAt returns s with the character at i changed to another
// base64url character.
func replaceAt(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// attempt is one token presented to Bind. pre, if set, is an identity bound
// with the same token before it stopped being valid.
type attempt struct {
	token string
	id    tokens.ID // zero when the token names no id of ours
	pre   *idm.Identity
}

// boundThen binds with the token tk (the bind must succeed), then runs
// invalidate, which should make tk fail: the attempt to check afterwards,
// with the identity bound before.
func (f *fixture) boundThen(t *testing.T, tk string, id tokens.ID, invalidate func()) attempt {
	t.Helper()
	pre := f.bind(t, tk)
	invalidate()
	return attempt{token: tk, id: id, pre: &pre}
}

func TestTokenBindFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, good, goodID := f.serviceToken(t, "demo_service", tokens.ReadOnly)
	parts := strings.Split(good, ".")
	if len(parts) != 3 {
		t.Fatalf("a good token has %d segments", len(parts))
	}
	h, p, sig := parts[0], parts[1], parts[2]
	var header struct{ Kid string }
	if raw, err := base64.RawURLEncoding.DecodeString(h); err != nil || json.Unmarshal(raw, &header) != nil || header.Kid == "" {
		t.Fatalf("header of a good token: %v %+v", err, header)
	}

	tests := []struct {
		name  string
		make  func(t *testing.T) attempt
		cause string // as logged
	}{
		{"garbage", func(*testing.T) attempt { return attempt{token: "garbage"} }, "malformed"},
		{"a single space", func(*testing.T) attempt { return attempt{token: " "} }, "malformed"},
		{"NUL byte", func(*testing.T) attempt { return attempt{token: "\x00"} }, "malformed"},
		{"just dots", func(*testing.T) attempt { return attempt{token: ".."} }, "malformed"},
		{"three short segments", func(*testing.T) attempt { return attempt{token: "a.b.c"} }, "malformed"},
		{"very long", func(*testing.T) attempt { return attempt{token: strings.Repeat("A", 100000)} }, "malformed"},
		{"good token with a newline", func(*testing.T) attempt { return attempt{token: good + "\n"} }, "malformed"},
		{"good token with a space", func(*testing.T) attempt { return attempt{token: " " + good} }, "malformed"},
		{"alg none, no signature", func(*testing.T) attempt {
			return attempt{token: b64(`{"alg":"none","kid":"`+header.Kid+`"}`) + "." + p + "."}
		}, "malformed"},
		{"alg none, any signature", func(*testing.T) attempt {
			return attempt{token: b64(`{"alg":"none","kid":"`+header.Kid+`"}`) + "." + p + "." + sig}
		}, "malformed"},
		{"alg HS512", func(*testing.T) attempt {
			return attempt{token: b64(`{"alg":"HS512","kid":"`+header.Kid+`"}`) + "." + p + "." + sig}
		}, "malformed"},
		{"no kid", func(*testing.T) attempt { return attempt{token: b64(`{"alg":"HS256"}`) + "." + p + "." + sig} }, "malformed"},
		{"truncated to two segments", func(*testing.T) attempt { return attempt{token: h + "." + p} }, "malformed"},
		{"truncated signature", func(*testing.T) attempt { return attempt{token: good[:len(good)-10]} }, "malformed"},
		{"flipped signature character", func(*testing.T) attempt { return attempt{token: replaceAt(good, len(good)-20)} }, "bad signature"},
		{"flipped payload character", func(*testing.T) attempt {
			return attempt{token: h + "." + replaceAt(p, 5) + "." + sig}
		}, "bad signature"},
		{"signed by another keyring", func(t *testing.T) attempt {
			other, err := tokens.NewKeyring(nil)
			if err != nil {
				t.Fatal(err)
			}
			// Its id is not "known": nothing vouches for a payload that
			// no key of ours signed.
			tk, _, err := (&tokens.Issuer{Keys: other}).Issue(f.entryUUID(t, f.serviceDN("demo_service")), "x", tokens.ReadOnly, time.Time{}, "")
			if err != nil {
				t.Fatal(err)
			}
			return attempt{token: tk}
		}, "unknown signing key"},
		{"revoked: record deleted", func(t *testing.T) attempt {
			tk, id := f.generate(t, "demo_service", time.Time{}, tokens.ReadWrite)
			return f.boundThen(t, tk, id, func() { f.deleteEntry(t, f.idmAdmin, recordDN(f.serviceDN("demo_service"), id)) })
		}, "revoked"},
		{"expired", func(t *testing.T) attempt {
			tk, id := f.generate(t, "demo_service", f.s.Clock.Now().Add(time.Hour), tokens.ReadOnly)
			return f.boundThen(t, tk, id, func() { f.s.Clock.Advance(2 * time.Hour) })
		}, "expired"},
		{"account deleted", func(t *testing.T) attempt {
			dn, tk, id := f.serviceToken(t, "deleted_service", tokens.ReadOnly)
			return f.boundThen(t, tk, id, func() { f.deleteEntry(t, f.idmAdmin, dn) })
		}, "revoked"},
		{"account disabled", func(t *testing.T) attempt {
			dn, tk, id := f.serviceToken(t, "disabled_service", tokens.ReadWrite)
			return f.boundThen(t, tk, id, func() {
				err := f.s.IDM.Modify(ctx, f.admin, dn, []directory.Change{{Op: directory.ChangeReplace, Attr: directory.AttrAccountDisabled, Values: []string{"TRUE"}}})
				if err != nil {
					t.Fatalf("disable: %v", err)
				}
			})
		}, "account disabled"},
		{"account replaced: deleted and recreated with the same name", func(t *testing.T) attempt {
			dn, tk, id := f.serviceToken(t, "replaced_service", tokens.ReadOnly)
			return f.boundThen(t, tk, id, func() {
				f.deleteEntry(t, f.idmAdmin, dn)
				f.createService(t, "replaced_service")
			})
		}, "revoked"},
		{"account replaced, the old record put back under the new account", func(t *testing.T) attempt {
			dn, tk, id := f.serviceToken(t, "restored_service", tokens.ReadOnly)
			var saved *directory.Entry
			err := f.s.Store.View(ctx, func(tx directory.ReadTx) error {
				e, err := tx.Get(recordDN(dn, id))
				saved = e
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			saved = saved.Clone()
			f.deleteEntry(t, f.idmAdmin, dn)
			f.createService(t, "restored_service")
			// Only someone with the bbolt file could do this; the token
			// must still fail, as it names the old account's UUID.
			if err := f.s.Store.Update(ctx, func(tx directory.WriteTx) error { return tx.Add(saved) }); err != nil {
				t.Fatal(err)
			}
			return attempt{token: tk, id: id}
		}, "revoked"},
	}

	// The one answer: the same as for a wrong password.
	_, ref := f.s.IDM.Bind(ctx, "idm_admin", []byte("wrong password"))
	if !errors.Is(ref, directory.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", ref)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.make(t)
			before := len(f.s.Logs())
			for _, name := range []string{"dn=token", "DN=Token", ""} {
				id, err := f.s.IDM.Bind(ctx, name, []byte(a.token))
				if !errors.Is(err, directory.ErrInvalidCredentials) {
					t.Fatalf("bind %q: %v (identity %v), want ErrInvalidCredentials", name, err, id)
				}
				if err.Error() != ref.Error() {
					t.Errorf("bind %q: message %q, want the same as every failure: %q", name, err, ref)
				}
				if !id.IsAnonymous() || id.Token {
					t.Errorf("bind %q: identity %v on failure", name, id)
				}
			}
			logs := f.s.Logs()[before:]
			// The cause is the metrics' vocabulary; the detail says more.
			cause := map[string]string{"revoked": idm.CauseRevoked, "expired": idm.CauseExpired, "account disabled": idm.CauseDisabled}[tc.cause]
			if cause == "" {
				cause = idm.CauseBadToken
			}
			if !strings.Contains(logs, `"cause":"`+cause+`","detail":"`+tc.cause+`"`) {
				t.Errorf("log does not give the cause %q with the detail %q:\n%s", cause, tc.cause, logs)
			}
			if a.id != (tokens.ID{}) && !strings.Contains(logs, a.id.String()) {
				t.Errorf("log does not name the token id %s:\n%s", a.id, logs)
			}
			if len(a.token) > 8 && strings.Contains(f.s.Logs(), strings.TrimSpace(a.token)) {
				t.Errorf("the log contains the token")
			}
			if a.pre == nil {
				return
			}
			// The sessions bound before: every later operation fails.
			if err := f.s.IDM.Check(ctx, *a.pre); !errors.Is(err, directory.ErrInvalidCredentials) {
				t.Errorf("Check of the identity bound before: %v", err)
			}
			if w, err := f.s.IDM.WhoAmI(ctx, *a.pre); !errors.Is(err, directory.ErrInvalidCredentials) {
				t.Errorf("WhoAmI of the identity bound before: %q, %v", w, err)
			}
			filter := &directory.Filter{Kind: directory.FilterPresent, Attr: "objectClass"}
			if err := filter.Resolve(f.s.IDM.Schema()); err != nil {
				t.Fatal(err)
			}
			_, err := f.s.IDM.Search(ctx, *a.pre, idm.SearchRequest{Base: f.s.IDM.Base(), Scope: directory.ScopeSub, Filter: filter},
				func(*directory.Entry) error { return nil })
			if !errors.Is(err, directory.ErrInvalidCredentials) {
				t.Errorf("Search as the identity bound before: %v", err)
			}
		})
	}

	// The good token was never affected.
	if id := f.bind(t, good); id.TokenID != goodID {
		t.Errorf("good token: %v", id)
	}
}

func TestTokenBindSuccess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dn := f.createService(t, "demo_service")
	// A member of idm_people_admins, so that a read-write token may write people.
	err := f.s.IDM.Modify(ctx, f.admin, directory.MustParseDN("cn=idm_people_admins,ou=groups,"+stacktest.Base),
		[]directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{dn.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	idmAdminDN := f.idmAdmin.DN
	describe := []directory.Change{{Op: directory.ChangeReplace, Attr: "description", Values: []string{"written with a token"}}}

	for _, tc := range []struct {
		name    string
		purpose tokens.Purpose
		expiry  time.Time
	}{
		{"read-only", tokens.ReadOnly, time.Time{}},
		{"read-write", tokens.ReadWrite, time.Time{}},
		{"read-only with expiry", tokens.ReadOnly, f.s.Clock.Now().Add(time.Hour)},
		{"read-write with expiry", tokens.ReadWrite, f.s.Clock.Now().Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, tid := f.generate(t, "demo_service", tc.expiry, tc.purpose)
			if len(tk) > 128 {
				t.Errorf("token of %d characters", len(tk))
			}
			for _, name := range []string{"dn=token", "DN=Token", "DN=TOKEN", ""} {
				id, err := f.s.IDM.Bind(ctx, name, []byte(tk))
				if err != nil {
					t.Fatalf("bind %q: %v", name, err)
				}
				if !id.Token || id.TokenID != tid || !id.DN.Equal(dn) || id.ReadWrite != (tc.purpose == tokens.ReadWrite) {
					t.Errorf("bind %q: identity %+v", name, id)
				}
				// The description the logs use, made with the token's state
				// (the first bind reads it, the next ones reuse it): the
				// same as one made afresh, and free to ask for.
				if want := dn.String() + " (token " + tid.String() + ")"; id.String() != want {
					t.Errorf("bind %q: identity described as %q, want %q", name, id.String(), want)
				}
				if n := testing.AllocsPerRun(10, func() { _ = id.String() }); n != 0 {
					t.Errorf("describing a token identity allocates %.0f times", n)
				}
				_, _ = f.s.IDM.WhoAmI(ctx, id) // derives the subject once
				if n := testing.AllocsPerRun(10, func() { _, _ = f.s.IDM.WhoAmI(ctx, id) }); n != 0 {
					t.Errorf("WhoAmI of a token identity allocates %.0f times", n)
				}
				if w, err := f.s.IDM.WhoAmI(ctx, id); err != nil || w != "u: demo_service@idm.example.com" {
					t.Errorf("whoami: %q, %v", w, err)
				}
			}
			id := f.bind(t, tk)
			err := f.s.IDM.Modify(ctx, id, idmAdminDN.Parent().Child(directory.NewRDN(directory.AVA{Type: "uid", Value: "idm_admin"})), describe)
			if err == nil {
				t.Error("a token of a people admin modified idm_admin (high privilege)")
			}
			person := f.person(t, "person_"+strings.ReplaceAll(tc.name, " ", "_"))
			err = f.s.IDM.Modify(ctx, id, person, describe)
			switch tc.purpose {
			case tokens.ReadOnly:
				if !errors.Is(err, directory.ErrInsufficientAccess) || !strings.Contains(err.Error(), "read-only") {
					t.Errorf("write with a read-only token: %v, want ErrInsufficientAccess", err)
				}
			case tokens.ReadWrite:
				if err != nil {
					t.Errorf("write with a read-write token of a people admin: %v", err)
				}
			}
			if !strings.Contains(f.s.Logs(), tid.String()) || strings.Contains(f.s.Logs(), tk) {
				t.Error("the log should name the token id and never the token")
			}
		})
	}
}

// person creates a person as idm_admin and returns its DN.
func (f *fixture) person(t *testing.T, name string) directory.DN {
	t.Helper()
	e := directory.NewEntry(directory.MustParseDN("uid=" + name + ",ou=people," + stacktest.Base))
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
	e.Set("uid", name)
	e.Set("cn", name)
	e.Set("sn", name)
	if err := f.s.IDM.Add(context.Background(), f.idmAdmin, e); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return e.DN
}

// FuzzTokenBind: whatever the password of a bind to dn=token, the answer is
// a token identity or the one invalidCredentials, never a panic, and the
// log never holds the password.
func FuzzTokenBind(f *testing.F) {
	fx := &fixture{s: stacktest.New(f)}
	ctx := context.Background()
	fx.idmAdmin, _ = fx.s.IDM.Bind(ctx, "idm_admin", []byte(fx.s.IDMAdminPW))
	e := directory.NewEntry(fx.serviceDN("demo_service"))
	e.Set("objectClass", "top", directory.ClassServiceAccount)
	e.Set("uid", "demo_service")
	e.Set(directory.AttrEntryManagedBy, fx.idmAdmin.DN.String())
	if err := fx.s.IDM.Add(ctx, fx.idmAdmin, e); err != nil {
		f.Fatal(err)
	}
	good, _, err := fx.s.IDM.GenerateToken(ctx, fx.idmAdmin, "demo_service", "fuzz", time.Time{}, tokens.ReadOnly)
	if err != nil {
		f.Fatal(err)
	}
	_, ref := fx.s.IDM.Bind(ctx, "idm_admin", []byte("wrong password"))
	for _, s := range []string{good, "garbage", "", "a.b.c", good[:100], replaceAt(good, 50), good + "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		before := len(fx.s.Logs())
		id, err := fx.s.IDM.Bind(ctx, "dn=token", []byte(pw))
		switch {
		case pw == good:
			if err != nil || !id.Token {
				t.Fatalf("good token: %v %v", id, err)
			}
		case pw == "":
			// An empty name with an empty password is anonymous; dn=token
			// with an empty password is not a token.
			if err == nil && id.Token {
				t.Fatalf("empty password bound as %v", id)
			}
		case err == nil:
			t.Fatalf("%q bound as %v", pw, id)
		case !errors.Is(err, directory.ErrInvalidCredentials) || err.Error() != ref.Error():
			t.Fatalf("%q: %v", pw, err)
		}
		if len(pw) > 12 && strings.Contains(fx.s.Logs()[before:], pw) {
			t.Fatalf("the log contains the password %q", pw)
		}
	})
}
