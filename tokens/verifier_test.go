package tokens_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

func TestVerifySuccess(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name    string
		purpose tokens.Purpose
		expiry  time.Time
		at      time.Time // verification time
	}{
		{"read-only, no expiry", tokens.ReadOnly, time.Time{}, t0.Add(100 * 365 * 24 * time.Hour)},
		{"read-write, no expiry", tokens.ReadWrite, time.Time{}, t0},
		{"read-only, expiring", tokens.ReadOnly, t0.Add(time.Hour), t0.Add(59 * time.Minute)},
		{"read-write, expiring", tokens.ReadWrite, t0.Add(time.Hour), t0.Add(time.Hour - time.Nanosecond)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.t = t0
			tok, rec := e.issue(t, account1, tc.purpose, tc.expiry)
			e.clock.t = tc.at
			c, got, err := verify(e.verifier, e.store, tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.TokenID != rec.ID || c.AccountUUID != account1 || c.KeyID != e.keys.ActiveKeyID() {
				t.Errorf("claims = %+v, want ID %s, account %x, kid %s", c, rec.ID, account1, e.keys.ActiveKeyID())
			}
			if got != rec {
				t.Errorf("record = %+v, want %+v", got, rec)
			}
			if got.Purpose != tc.purpose {
				t.Errorf("purpose = %v, want %v", got.Purpose, tc.purpose)
			}
		})
	}
}

// forge builds tokens that Issue would never produce.
type forge struct {
	e   *env
	kid string
	tok string // a valid token
	rec tokens.Record
}

func (f forge) payload() []byte { return tokens.EncodePayload(f.rec.ID, f.rec.AccountUUID) }

func (f forge) header(extra string) string {
	return `{"alg":"HS256","kid":"` + f.kid + `"` + extra + `}`
}

func (f forge) hs256(header string, payload []byte) string {
	return tokens.SignManual(f.e.keys, f.kid, header, payload, sha256.New, nil)
}

func segments(tok string) []string { return strings.Split(tok, ".") }

// flipChar replaces the character at i with another that keeps the base64
// decoding the same length and canonical (it changes a high bit).
func flipChar(s string, i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	v := strings.IndexByte(alphabet, s[i])
	return s[:i] + string(alphabet[v^32]) + s[i+1:]
}

func TestVerifyFailures(t *testing.T) {
	e := newEnv(t)
	tok, rec := e.issue(t, account1, tokens.ReadWrite, time.Time{})
	f := forge{e: e, kid: e.keys.ActiveKeyID(), tok: tok, rec: rec}
	seg := segments(tok)
	enc := base64.RawURLEncoding

	// A token whose record will be deleted.
	revokedTok, revokedRec := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	e.store.remove(revokedRec.ID)

	// Expiry: issued at t0 for an hour; verified at t0+2h and exactly at expiry.
	expTok, _ := e.issue(t, account1, tokens.ReadOnly, t0.Add(time.Hour))

	// A record that names another account than the signed token does.
	mismatchTok, mismatchRec := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	mismatchRec.AccountUUID = account2
	e.store.put(mismatchRec)

	// A stored record with a purpose this version does not know.
	badPurposeTok, badPurposeRec := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	badPurposeRec.Purpose = 7
	e.store.put(badPurposeRec)

	// Signed by a key with the same kid but another secret.
	otherSecret := make([]byte, 32)
	for i := range otherSecret {
		otherSecret[i] = byte(i)
	}
	otherKeyTok := tokens.SignManual(e.keys, f.kid, f.header(""), f.payload(), sha256.New, otherSecret)

	// The signature segment with its last character changed only in the
	// two spare bits: same bytes, so the HMAC verifies, but not canonical.
	last := seg[2][len(seg[2])-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	spare := string(alphabet[strings.IndexByte(alphabet, last)^1])
	nonCanonical := seg[0] + "." + seg[1] + "." + seg[2][:len(seg[2])-1] + spare

	cases := []struct {
		name  string
		token string
		at    time.Time // verification time; zero: t0
		want  error
	}{
		{"empty", "", time.Time{}, tokens.ErrMalformed},
		{"garbage", "hello world", time.Time{}, tokens.ErrMalformed},
		{"one part", seg[0], time.Time{}, tokens.ErrMalformed},
		{"two parts", seg[0] + "." + seg[1], time.Time{}, tokens.ErrMalformed},
		{"four parts", tok + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"empty signature", seg[0] + "." + seg[1] + ".", time.Time{}, tokens.ErrMalformed},
		{"empty payload", seg[0] + ".." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"base64 junk", "!!!!.@@@@.####", time.Time{}, tokens.ErrMalformed},
		{"padded base64", seg[0] + "=." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"bad base64 length", "eyJhb." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"header not JSON", enc.EncodeToString([]byte("not json")) + "." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"leading space", " " + tok, time.Time{}, tokens.ErrMalformed},
		{"trailing newline", tok + "\n", time.Time{}, tokens.ErrMalformed},
		{"JSON serialization", `{"payload":"` + seg[1] + `","protected":"` + seg[0] + `","signature":"` + seg[2] + `"}`, time.Time{}, tokens.ErrMalformed},
		{"oversize", strings.Repeat("A", 513), time.Time{}, tokens.ErrMalformed},
		{"oversize signature", tok + strings.Repeat("A", 400), time.Time{}, tokens.ErrMalformed},
		{"alg none", enc.EncodeToString([]byte(`{"alg":"none","kid":"`+f.kid+`"}`)) + "." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"alg none, signed", f.hs256(`{"alg":"none","kid":"`+f.kid+`"}`, f.payload()), time.Time{}, tokens.ErrMalformed},
		{"alg HS512, signed", tokens.SignManual(e.keys, f.kid, `{"alg":"HS512","kid":"`+f.kid+`"}`, f.payload(), sha512.New, nil), time.Time{}, tokens.ErrMalformed},
		{"alg ES256", enc.EncodeToString([]byte(`{"alg":"ES256","kid":"`+f.kid+`"}`)) + "." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"alg RS256", enc.EncodeToString([]byte(`{"alg":"RS256","kid":"`+f.kid+`"}`)) + "." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrMalformed},
		{"no kid, signed", f.hs256(`{"alg":"HS256"}`, f.payload()), time.Time{}, tokens.ErrMalformed},
		{"extra header typ, signed", f.hs256(f.header(`,"typ":"JWT"`), f.payload()), time.Time{}, tokens.ErrMalformed},
		{"b64 false, signed", f.hs256(f.header(`,"b64":false,"crit":["b64"]`), f.payload()), time.Time{}, tokens.ErrMalformed},
		{"reordered header, signed", f.hs256(`{"kid":"`+f.kid+`","alg":"HS256"}`, f.payload()), time.Time{}, tokens.ErrMalformed},
		{"payload 31 bytes, signed", f.hs256(f.header(""), f.payload()[:31]), time.Time{}, tokens.ErrMalformed},
		{"payload 33 bytes, signed", f.hs256(f.header(""), append(f.payload(), 0)), time.Time{}, tokens.ErrMalformed},
		{"payload empty JSON, signed", f.hs256(f.header(""), []byte("{}")), time.Time{}, tokens.ErrMalformed},
		{"non-canonical signature", nonCanonical, time.Time{}, tokens.ErrMalformed},
		{"unknown kid", f.hs256(`{"alg":"HS256","kid":"ZZZZZZ"}`, f.payload()), time.Time{}, tokens.ErrUnknownKey},
		{"unknown long kid", enc.EncodeToString([]byte(`{"alg":"HS256","kid":"`+strings.Repeat("k", 100)+`"}`)) + "." + seg[1] + "." + seg[2], time.Time{}, tokens.ErrUnknownKey},
		{"signature flipped", seg[0] + "." + seg[1] + "." + flipChar(seg[2], 0), time.Time{}, tokens.ErrBadSignature},
		{"signature truncated", seg[0] + "." + seg[1] + "." + seg[2][:42], time.Time{}, tokens.ErrBadSignature},
		{"payload flipped", seg[0] + "." + flipChar(seg[1], 3) + "." + seg[2], time.Time{}, tokens.ErrBadSignature},
		{"other key, same kid", otherKeyTok, time.Time{}, tokens.ErrBadSignature},
		{"revoked", revokedTok, time.Time{}, tokens.ErrRevoked},
		{"expired", expTok, t0.Add(2 * time.Hour), tokens.ErrExpired},
		{"expired at the instant", expTok, t0.Add(time.Hour), tokens.ErrExpired},
		{"record for another account", mismatchTok, time.Time{}, tokens.ErrRecordMismatch},
		{"record with unknown purpose", badPurposeTok, time.Time{}, tokens.ErrInvalidPurpose},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.t = t0
			if !tc.at.IsZero() {
				e.clock.t = tc.at
			}
			c, got, err := verify(e.verifier, e.store, tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			if got != (tokens.Record{}) {
				t.Errorf("Verify returned record %+v with error", got)
			}
			// Exactly one of the five causes (a mismatch also counts as
			// revoked; a corrupt record as none of them).
			var causes []error
			for _, s := range verifySentinels {
				if errors.Is(err, s) {
					causes = append(causes, s)
				}
			}
			wantCauses := 1
			if tc.want == tokens.ErrInvalidPurpose {
				wantCauses = 0
			}
			if len(causes) != wantCauses {
				t.Errorf("error %q matches %v; want exactly %d of the causes", err, causes, wantCauses)
			}
			if tc.want == tokens.ErrRecordMismatch && !errors.Is(err, tokens.ErrRevoked) {
				t.Errorf("mismatch error %q does not match ErrRevoked", err)
			}
			assertNoTokenText(t, err, tc.token)

			// Claims come back exactly when the signature verified.
			signed := errors.Is(err, tokens.ErrRevoked) || errors.Is(err, tokens.ErrExpired) || errors.Is(err, tokens.ErrInvalidPurpose)
			if signed != (c != tokens.Claims{}) {
				t.Errorf("claims = %+v, want them filled in only after the signature verified", c)
			}
			// Parse agrees with Verify on the stateless steps.
			if _, perr := e.verifier.Parse(tc.token); signed != (perr == nil) {
				t.Errorf("Parse error = %v, inconsistent with Verify's %v", perr, err)
			}
		})
	}
}

// assertNoTokenText fails if err's text contains the token or its
// signature segment.
func assertNoTokenText(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if len(token) >= 8 && strings.Contains(msg, token) {
		t.Errorf("error %q contains the token", msg)
	}
	if s := segments(token); len(s) >= 3 && len(s[2]) >= 8 && strings.Contains(msg, s[2]) {
		t.Errorf("error %q contains the token's signature", msg)
	}
}

func TestVerifyLookupFailure(t *testing.T) {
	e := newEnv(t)
	tok, rec := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	outage := errors.New("store unavailable")
	e.store.err = outage
	c, _, err := verify(e.verifier, e.store, tok)
	if !errors.Is(err, outage) {
		t.Fatalf("Verify error = %v, want the store's error", err)
	}
	for _, s := range verifySentinels {
		if errors.Is(err, s) {
			t.Errorf("store failure %q reported as %v", err, s)
		}
	}
	if c.TokenID != rec.ID {
		t.Errorf("claims token ID = %s, want %s", c.TokenID, rec.ID)
	}
}

func TestVerifyRecordWithOtherID(t *testing.T) {
	e := newEnv(t)
	tok, rec := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	// A (broken) lookup that answers with another token's record.
	other := rec
	other.ID[0] ^= 1
	_, _, err := verify(e.verifier, lookupFunc(func(context.Context, tokens.Claims) (tokens.Record, error) { return other, nil }), tok)
	if !errors.Is(err, tokens.ErrRecordMismatch) || !errors.Is(err, tokens.ErrRevoked) {
		t.Fatalf("Verify error = %v, want ErrRecordMismatch and ErrRevoked", err)
	}
	// A record of the right ID held by another account is not it either.
	other = rec
	other.AccountUUID[0] ^= 1
	c, err := e.verifier.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.verifier.Check(c, other); !errors.Is(err, tokens.ErrRecordMismatch) {
		t.Fatalf("Check of another account's record: %v, want ErrRecordMismatch", err)
	}
}

// Parse reads nothing: it gives the claims (token ID and account) that the
// caller reads the record by, as the directory layer does, so the same ID
// anywhere else is never consulted.
func TestParseGivesTheKey(t *testing.T) {
	e := newEnv(t)
	tok, rec := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	c, err := e.verifier.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenID != rec.ID || c.AccountUUID != account1 {
		t.Fatalf("claims %+v, want token %s and account %x", c, rec.ID, account1)
	}
}

func TestVerifyNilKeyring(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	v := &tokens.Verifier{}
	if _, _, err := verify(v, e.store, tok); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Fatalf("Verify with no keyring: %v, want ErrUnknownKey", err)
	}
}

func TestRotateAndRemove(t *testing.T) {
	e := newEnv(t)
	oldKid := e.keys.ActiveKeyID()
	oldTok, _ := e.issue(t, account1, tokens.ReadOnly, time.Time{})

	if err := e.keys.Rotate(testRand(3)); err != nil {
		t.Fatal(err)
	}
	newKid := e.keys.ActiveKeyID()
	if newKid == oldKid {
		t.Fatalf("Rotate kept kid %s", newKid)
	}
	if got := e.keys.KeyIDs(); len(got) != 2 || got[0] != oldKid || got[1] != newKid {
		t.Fatalf("KeyIDs = %v, want [%s %s]", got, oldKid, newKid)
	}
	newTok, _ := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	for name, tc := range map[string]struct{ tok, kid string }{"old": {oldTok, oldKid}, "new": {newTok, newKid}} {
		c, _, err := verify(e.verifier, e.store, tc.tok)
		if err != nil {
			t.Fatalf("%s token after Rotate: %v", name, err)
		}
		if c.KeyID != tc.kid {
			t.Errorf("%s token kid = %s, want %s", name, c.KeyID, tc.kid)
		}
	}

	if err := e.keys.Remove(newKid); !errors.Is(err, tokens.ErrActiveKey) {
		t.Errorf("Remove(active) = %v, want ErrActiveKey", err)
	}
	if err := e.keys.Remove("nope00"); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Errorf("Remove(unknown) = %v, want ErrUnknownKey", err)
	}
	if err := e.keys.Remove(oldKid); err != nil {
		t.Fatalf("Remove(old): %v", err)
	}
	if _, _, err := verify(e.verifier, e.store, oldTok); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Errorf("old token after Remove: %v, want ErrUnknownKey", err)
	}
	if _, _, err := verify(e.verifier, e.store, newTok); err != nil {
		t.Errorf("new token after Remove: %v", err)
	}
	if err := e.keys.Remove(oldKid); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Errorf("second Remove(old) = %v, want ErrUnknownKey", err)
	}
}

// TestConcurrentRotate verifies on many goroutines while keys rotate and
// are removed; run with -race. The first key is never removed, so its token
// must verify throughout.
func TestConcurrentRotate(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	issuer := &tokens.Issuer{Keys: e.keys, Now: e.clock.Now} // crypto/rand: safe for concurrent use

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := verify(e.verifier, e.store, tok); err != nil {
					errs <- err
					return
				}
				if _, _, err := issuer.Issue(account2, "x", tokens.ReadOnly, time.Time{}, "x"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 50 {
		if err := e.keys.Rotate(nil); err != nil {
			t.Fatal(err)
		}
		ids := e.keys.KeyIDs()
		if len(ids) > 3 {
			if err := e.keys.Remove(ids[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Verify/Issue: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	e := newEnv(b)
	tok, _ := e.issue(b, account1, tokens.ReadWrite, t0.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := verify(e.verifier, e.store, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBadSignature(b *testing.B) {
	e := newEnv(b)
	tok, _ := e.issue(b, account1, tokens.ReadWrite, time.Time{})
	s := segments(tok)
	bad := s[0] + "." + s[1] + "." + flipChar(s[2], 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.verifier.Parse(bad); err == nil {
			b.Fatal("bad token verified")
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.issuer.Issue(account1, "bench", tokens.ReadOnly, time.Time{}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
