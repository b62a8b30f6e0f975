package tokens_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

func TestKeyringMarshalRoundTrip(t *testing.T) {
	e := newEnv(t)
	oldTok, _ := e.issue(t, account1, tokens.ReadOnly, time.Time{})
	if err := e.keys.Rotate(testRand(9)); err != nil {
		t.Fatal(err)
	}
	newTok, _ := e.issue(t, account1, tokens.ReadOnly, time.Time{})

	data, err := e.keys.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var loaded tokens.Keyring
	if err := loaded.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(loaded.KeyIDs()), fmt.Sprint(e.keys.KeyIDs()); got != want {
		t.Errorf("loaded KeyIDs = %s, want %s", got, want)
	}
	if loaded.ActiveKeyID() != e.keys.ActiveKeyID() {
		t.Errorf("loaded active = %s, want %s", loaded.ActiveKeyID(), e.keys.ActiveKeyID())
	}
	v := &tokens.Verifier{Keys: &loaded, Now: e.clock.Now}
	for _, tok := range []string{oldTok, newTok} {
		if _, _, err := verify(v, e.store, tok); err != nil {
			t.Errorf("Verify with reloaded keyring: %v", err)
		}
	}
	// Mutating the input afterwards must not affect the keyring.
	for i := range data {
		data[i] = 0
	}
	if _, _, err := verify(v, e.store, newTok); err != nil {
		t.Errorf("keyring retained its input: %v", err)
	}
}

func TestKeyringUnmarshalErrors(t *testing.T) {
	e := newEnv(t)
	if err := e.keys.Rotate(testRand(9)); err != nil {
		t.Fatal(err)
	}
	good, err := e.keys.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const header = 7             // magic, version, count
	const entry = 1 + 6 + 1 + 32 // kidLen, kid, secretLen, secret
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", good[:5]},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"version 2", mod(func(b []byte) []byte { b[4] = 2; return b })},
		{"zero keys", mod(func(b []byte) []byte { b[5], b[6] = 0, 0; return b[:header] })},
		{"count too high", mod(func(b []byte) []byte { b[5], b[6] = 0, 3; return b })},
		{"count huge", mod(func(b []byte) []byte { b[5], b[6] = 0xff, 0xff; return b })},
		{"truncated key", good[:len(good)-1]},
		{"trailing data", append(bytes.Clone(good), 0)},
		{"kid length 7", mod(func(b []byte) []byte { b[header] = 7; return b })},
		{"secret length 16", mod(func(b []byte) []byte { b[header+7] = 16; return b })},
		{"kid with a dot", mod(func(b []byte) []byte { b[header+1] = '.'; return b })},
		{"kid with a quote", mod(func(b []byte) []byte { b[header+1] = '"'; return b })},
		{"duplicate kid", mod(func(b []byte) []byte { copy(b[header+entry+1:], b[header+1:header+7]); return b })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := tokens.NewKeyring(testRand(5))
			if err != nil {
				t.Fatal(err)
			}
			before := k.KeyIDs()
			err = k.UnmarshalBinary(tc.data)
			if !errors.Is(err, tokens.ErrInvalidKeyring) {
				t.Fatalf("UnmarshalBinary error = %v, want ErrInvalidKeyring", err)
			}
			if fmt.Sprint(k.KeyIDs()) != fmt.Sprint(before) {
				t.Errorf("failed UnmarshalBinary changed the keys to %v", k.KeyIDs())
			}
		})
	}
}

func TestKeyringEmpty(t *testing.T) {
	var k tokens.Keyring
	if _, err := k.MarshalBinary(); !errors.Is(err, tokens.ErrNoKeys) {
		t.Errorf("MarshalBinary(empty) = %v, want ErrNoKeys", err)
	}
	if k.ActiveKeyID() != "" || k.KeyIDs() != nil {
		t.Errorf("empty keyring has active %q, keys %v", k.ActiveKeyID(), k.KeyIDs())
	}
	if err := k.Remove("abcdef"); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Errorf("Remove on empty keyring = %v, want ErrUnknownKey", err)
	}
	// The zero Keyring becomes usable with Rotate.
	if err := k.Rotate(testRand(1)); err != nil {
		t.Fatal(err)
	}
	if len(k.ActiveKeyID()) != tokens.KeyIDLen {
		t.Errorf("active kid %q, want %d characters", k.ActiveKeyID(), tokens.KeyIDLen)
	}
}

// constReader returns the same byte forever: a broken random source.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestRotateBrokenRand(t *testing.T) {
	if _, err := tokens.NewKeyring(strings.NewReader("too short")); err == nil {
		t.Error("NewKeyring with a short random source succeeded")
	}
	k, err := tokens.NewKeyring(constReader(7))
	if err != nil {
		t.Fatal(err)
	}
	// The same bytes again give the same kid every time: Rotate must give
	// up rather than loop or replace the key.
	if err := k.Rotate(constReader(7)); err == nil {
		t.Error("Rotate with a constant random source succeeded")
	}
	if n := len(k.KeyIDs()); n != 1 {
		t.Errorf("keyring has %d keys after the failed Rotate, want 1", n)
	}
}

// TestKeyringRedacted: no fmt verb on any type prints a secret key.
func TestKeyringRedacted(t *testing.T) {
	e := newEnv(t)
	if err := e.keys.Rotate(testRand(9)); err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	for _, kid := range e.keys.KeyIDs() {
		secrets = append(secrets, tokens.KeySecret(e.keys, kid))
	}
	key := tokens.KeyValue(e.keys, e.keys.ActiveKeyID())
	values := map[string]any{
		"*Keyring":  e.keys,
		"Issuer":    *e.issuer,
		"*Issuer":   e.issuer,
		"Verifier":  *e.verifier,
		"*Verifier": e.verifier,
		"key":       key,
		"[]any":     []any{e.keys, key},
		"map":       map[string]any{"k": e.keys, "key": key},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				for _, form := range []string{
					string(s), hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)),
					base64.StdEncoding.EncodeToString(s)[:20], base64.RawURLEncoding.EncodeToString(s)[:20],
					strings.Trim(fmt.Sprint(s), "[]")[:20], fmt.Sprintf("%#v", s)[:30],
				} {
					if strings.Contains(out, form) {
						t.Errorf("Sprintf(%s, %s) = %s: contains key material", verb, name, out)
					}
				}
			}
		}
	}
	if got := e.keys.String(); !strings.Contains(got, e.keys.ActiveKeyID()) {
		t.Errorf("String() = %q, want it to name the active kid", got)
	}
	if got := fmt.Sprint(key); !strings.Contains(got, "REDACTED") {
		t.Errorf("key prints as %q, want REDACTED", got)
	}
}
