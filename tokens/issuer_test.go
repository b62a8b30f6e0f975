package tokens_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ldapd/ldapd/tokens"
)

func TestIssueRecord(t *testing.T) {
	e := newEnv(t)
	local := time.FixedZone("AEST", 10*3600)
	e.clock.t = t0.In(local)
	expiry := time.Date(2030, 9, 25, 11, 22, 2, 0, local)
	tok, rec, err := e.issuer.Issue(account1, "Test Token", tokens.ReadWrite, expiry, "demo_user")
	if err != nil {
		t.Fatal(err)
	}
	want := tokens.Record{
		ID:          rec.ID,
		AccountUUID: account1,
		Label:       "Test Token",
		Purpose:     tokens.ReadWrite,
		IssuedAt:    t0,
		Expiry:      expiry.UTC(),
		IssuedBy:    "demo_user",
	}
	if rec != want {
		t.Errorf("record = %+v\nwant     %+v", rec, want)
	}
	if u := uuid.UUID(rec.ID); u.Version() != 4 || u.Variant() != uuid.RFC4122 {
		t.Errorf("token ID %s is not a random (v4) UUID", rec.ID)
	}
	c, err := e.verifier.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenID != rec.ID || c.AccountUUID != account1 {
		t.Errorf("claims %+v do not match record %+v", c, rec)
	}
}

func TestIssueErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name    string
		issuer  *tokens.Issuer
		account [16]byte
		purpose tokens.Purpose
		expiry  time.Time
		want    error
	}{
		{"expiry now", e.issuer, account1, tokens.ReadOnly, t0, tokens.ErrExpiryInPast},
		{"expiry in the past", e.issuer, account1, tokens.ReadOnly, t0.Add(-time.Second), tokens.ErrExpiryInPast},
		{"expiry long ago", e.issuer, account1, tokens.ReadOnly, time.Date(2020, 9, 25, 11, 22, 2, 0, time.UTC), tokens.ErrExpiryInPast},
		{"unknown purpose", e.issuer, account1, tokens.Purpose(2), time.Time{}, tokens.ErrInvalidPurpose},
		{"zero account", e.issuer, [16]byte{}, tokens.ReadOnly, time.Time{}, tokens.ErrInvalidAccount},
		{"empty keyring", &tokens.Issuer{Keys: new(tokens.Keyring), Now: e.clock.Now}, account1, tokens.ReadOnly, time.Time{}, tokens.ErrNoKeys},
		{"nil keyring", &tokens.Issuer{Now: e.clock.Now}, account1, tokens.ReadOnly, time.Time{}, tokens.ErrNoKeys},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, rec, err := tc.issuer.Issue(tc.account, "label", tc.purpose, tc.expiry, "admin")
			if !errors.Is(err, tc.want) {
				t.Fatalf("Issue error = %v, want %v", err, tc.want)
			}
			if tok != "" || rec != (tokens.Record{}) {
				t.Errorf("Issue returned %q, %+v with an error", tok, rec)
			}
		})
	}

	// One nanosecond in the future is fine.
	if _, _, err := e.issuer.Issue(account1, "l", tokens.ReadOnly, t0.Add(time.Nanosecond), "a"); err != nil {
		t.Errorf("Issue with expiry now+1ns: %v", err)
	}
}

func TestIssueBrokenRand(t *testing.T) {
	e := newEnv(t)
	e.issuer.Rand = strings.NewReader("short")
	if _, _, err := e.issuer.Issue(account1, "l", tokens.ReadOnly, time.Time{}, "a"); err == nil {
		t.Fatal("Issue with an exhausted random source succeeded")
	}
}

// TestTokenLength is the 128-character budget: every token, across many
// IDs, accounts and rotated keys, is exactly TokenLen long, and its header
// is the minimal one.
func TestTokenLength(t *testing.T) {
	if tokens.TokenLen > tokens.MaxTokenLen || tokens.MaxTokenLen != 128 {
		t.Fatalf("TokenLen = %d, MaxTokenLen = %d; want TokenLen <= 128", tokens.TokenLen, tokens.MaxTokenLen)
	}
	e := newEnv(t)
	longest := 0
	for i := range 1200 {
		if i%300 == 299 {
			if err := e.keys.Rotate(nil); err != nil {
				t.Fatal(err)
			}
		}
		account := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, byte(i)}
		expiry := time.Time{}
		if i%2 == 1 {
			expiry = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
		}
		tok, _, err := e.issuer.Issue(account, strings.Repeat("a very long label ", 50), tokens.ReadWrite, expiry, strings.Repeat("x", 1000))
		if err != nil {
			t.Fatal(err)
		}
		longest = max(longest, len(tok))
		if len(tok) != tokens.TokenLen {
			t.Fatalf("token %d has length %d, want %d", i, len(tok), tokens.TokenLen)
		}
		header, err := base64.RawURLEncoding.DecodeString(segments(tok)[0])
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"alg":"HS256","kid":"` + e.keys.ActiveKeyID() + `"}`; string(header) != want {
			t.Fatalf("header = %s, want %s", header, want)
		}
		if _, err := e.verifier.Parse(tok); err != nil {
			t.Fatalf("Parse(issued token %d): %v", i, err)
		}
	}
	t.Logf("longest of 1200 tokens: %d characters (TokenLen %d, limit %d)", longest, tokens.TokenLen, tokens.MaxTokenLen)
}

// TestIssueDeterministic: with the same keys and random source, Issue
// produces the same token, so tests and fuzz seeds are reproducible.
func TestIssueDeterministic(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	ta, _ := a.issue(t, account1, tokens.ReadOnly, time.Time{})
	tb, _ := b.issue(t, account1, tokens.ReadOnly, time.Time{})
	if ta != tb {
		t.Fatal("same keys and random source gave different tokens")
	}
	if _, _, err := verify(b.verifier, b.store, ta); err != nil {
		t.Fatal(err)
	}
}
