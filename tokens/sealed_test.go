package tokens_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/tokens"
)

func TestSealedKeyringRoundTrip(t *testing.T) {
	k, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	kek := bytes.Repeat([]byte{7}, tokens.KEKSize)
	blob, err := tokens.SealKeyring(k, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := k.MarshalBinary()
	if bytes.Contains(blob, plain[7:]) {
		t.Fatal("sealed blob contains the key material in the clear")
	}
	got, err := tokens.OpenSealedKeyring(blob, kek)
	if err != nil {
		t.Fatal(err)
	}
	if got.ActiveKeyID() != k.ActiveKeyID() {
		t.Fatalf("active key %s, want %s", got.ActiveKeyID(), k.ActiveKeyID())
	}
	other := bytes.Repeat([]byte{8}, tokens.KEKSize)
	if _, err := tokens.OpenSealedKeyring(blob, other); !errors.Is(err, tokens.ErrSealedKeyring) {
		t.Fatalf("open with another KEK: %v, want ErrSealedKeyring", err)
	}
	blob[len(blob)-1] ^= 1
	if _, err := tokens.OpenSealedKeyring(blob, kek); !errors.Is(err, tokens.ErrSealedKeyring) {
		t.Fatalf("open an altered blob: %v, want ErrSealedKeyring", err)
	}
}

func TestLoadKEK(t *testing.T) {
	dir := t.TempDir()
	hexKEK := strings.Repeat("ab", tokens.KEKSize)
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		ok            bool
	}{
		{"raw", strings.Repeat("x", tokens.KEKSize), 0o600, true},
		{"hex", hexKEK + "\n", 0o600, true},
		{"short", "abcd", 0o600, false},
		{"readable", hexKEK, 0o644, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			k, err := tokens.LoadKEK(p)
			if tc.ok != (err == nil) || (tc.ok && len(k) != tokens.KEKSize) {
				t.Fatalf("LoadKEK = %d bytes, %v; want ok=%v", len(k), err, tc.ok)
			}
		})
	}
}
