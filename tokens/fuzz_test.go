package tokens_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

// fuzzKeyring is the fixed keyring of FuzzVerifyToken: two keys from fixed
// seeds, so the valid tokens in testdata/fuzz/FuzzVerifyToken stay valid.
func fuzzKeyring(t testing.TB) *tokens.Keyring {
	k, err := tokens.NewKeyring(testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Rotate(testRand(3)); err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzVerifyToken feeds arbitrary bind passwords to the verifier. Beyond
// "no panic", it checks that
//   - every rejection wraps one of the stateless causes and does not quote
//     the token's signature;
//   - every accepted string is byte for byte the token our keyring signs for
//     its claims (HMAC is deterministic), so acceptance implies a valid
//     signature by our key and there are no alternative spellings;
//   - an accepted token with a matching record passes Verify.
//
// Seeds: testdata/fuzz/FuzzVerifyToken plus valid and broken tokens made
// here. Run it with
//
//	go test -run='^$' -fuzz='^FuzzVerifyToken$' -fuzztime=30s ./tokens/
func FuzzVerifyToken(f *testing.F) {
	keys := fuzzKeyring(f)
	c := &clock{t: t0}
	issuer := &tokens.Issuer{Keys: keys, Rand: testRand(2), Now: c.Now}
	for _, purpose := range []tokens.Purpose{tokens.ReadOnly, tokens.ReadWrite} {
		tok, _, err := issuer.Issue(account1, "seed", purpose, time.Time{}, "fuzz")
		if err != nil {
			f.Fatal(err)
		}
		s := segments(tok)
		f.Add(tok)
		f.Add(s[0] + "." + s[1] + "." + flipChar(s[2], 5))
		f.Add(s[0] + "." + s[1])
		f.Add(tok + "." + s[2])
		f.Add(s[0] + ".." + s[2])
	}
	// One token signed by the older key.
	old := keys.KeyIDs()[0]
	oldTok, err := tokens.SignRaw(keys, old, tokens.EncodePayload(tokens.ID{1, 2, 3}, account2))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(oldTok)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Repeat("A", 600))

	v := &tokens.Verifier{Keys: keys, Now: c.Now}
	stateless := []error{tokens.ErrMalformed, tokens.ErrUnknownKey, tokens.ErrBadSignature}
	f.Fuzz(func(t *testing.T, s string) {
		claims, err := v.Parse(s)
		if err != nil {
			matched := 0
			for _, cause := range stateless {
				if errors.Is(err, cause) {
					matched++
				}
			}
			if matched != 1 {
				t.Fatalf("Parse error %q matches %d of the stateless causes, want 1", err, matched)
			}
			// Header fields are quoted (cut to 16 bytes), so only a
			// signature of 20 or more characters is sure not to appear by
			// coincidence.
			if i := strings.LastIndexByte(s, '.'); i >= 0 && len(s)-i-1 >= 20 && strings.Contains(err.Error(), s[i+1:]) {
				t.Fatalf("error %q quotes the token's signature", err)
			}
			return
		}
		want, err := tokens.SignRaw(keys, claims.KeyID, tokens.EncodePayload(claims.TokenID, claims.AccountUUID))
		if err != nil {
			t.Fatalf("re-signing accepted claims: %v", err)
		}
		if s != want {
			t.Fatalf("Parse accepted %q, but our key signs those claims as %q", s, want)
		}
		own := lookupFunc(func(_ context.Context, c tokens.Claims) (tokens.Record, error) {
			return tokens.Record{ID: c.TokenID, AccountUUID: c.AccountUUID}, nil
		})
		if c2, _, err := verify(v, own, s); err != nil || c2 != claims {
			t.Fatalf("Verify after Parse accepted: %+v, %v; want %+v", c2, err, claims)
		}
	})
}

// TestFuzzSeedsValid keeps the corpus meaningful: the valid_* seeds must
// still verify with fuzzKeyring, or the fuzzer starts from no valid token.
func TestFuzzSeedsValid(t *testing.T) {
	v := &tokens.Verifier{Keys: fuzzKeyring(t)}
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerifyToken", "valid_*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no valid seeds: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s: not a one-string fuzz seed", p)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := v.Parse(s); err != nil {
			t.Errorf("%s no longer parses: %v", p, err)
		}
	}
}
