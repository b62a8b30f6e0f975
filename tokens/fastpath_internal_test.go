package tokens

import (
	"errors"
	"testing"
	"time"
)

// TestParseFastPathAgrees checks Parse's fast path against the general
// (go-jose) path on a valid token and on every single-character change of
// it: both must accept the same tokens with the same claims and reject the
// others with the same error kind.
func TestParseFastPathAgrees(t *testing.T) {
	keys, err := NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{Keys: keys, Now: time.Now}
	tok, _, err := iss.Issue([16]byte{1, 2, 3}, "l", ReadOnly, time.Time{}, "x")
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Keys: keys}
	kinds := []error{ErrMalformed, ErrBadSignature, ErrUnknownKey}
	kind := func(err error) error {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return k
			}
		}
		return err
	}
	const alphabet = "AQgw_-.=+/"
	tried := 0
	for i := 0; i <= len(tok); i++ {
		for _, c := range alphabet {
			mut := tok[:i] + string(c) + tok[min(i+1, len(tok)):]
			if i == len(tok) {
				mut = tok + string(c)
			}
			header, payload, sig, ok := splitCompact(mut)
			if !ok {
				continue
			}
			tried++
			fast, fastErr := v.Parse(mut)
			slow, slowErr := v.parseGeneral(mut, header, payload, sig)
			if fast != slow || kind(fastErr) != kind(slowErr) {
				t.Fatalf("%q: fast (%+v, %v) vs general (%+v, %v)", mut, fast, fastErr, slow, slowErr)
			}
		}
	}
	if tried < len(tok) {
		t.Fatalf("only %d mutations tried", tried)
	}
	if _, err := v.Parse(tok); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = v.Parse(tok) }); n > 8 {
		t.Errorf("Parse allocates %v times", n)
	}
}
