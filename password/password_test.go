package password_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/password"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := password.NewHasher(password.TestParams(), nil, 2)
	stored, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$") || !password.IsHashed(stored) {
		t.Fatalf("unexpected stored form %q", stored)
	}
	other, _ := h.Hash(ctx, "correct horse")
	if other == stored {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	if err := h.Verify(ctx, stored, "correct horse"); err != nil {
		t.Fatalf("verify right password: %v", err)
	}
	if err := h.Verify(ctx, stored, "wrong"); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("verify wrong password: %v", err)
	}
}

func TestVerifyRejectsHostileValues(t *testing.T) {
	h := password.NewHasher(password.TestParams(), nil, 1)
	for _, tc := range []struct{ name, stored string }{
		{"plaintext", "secret"},
		{"huge memory", "{ARGON2}$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA"},
		{"zero time", "{ARGON2}$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0$aGFzaA"},
		{"argon2i", "{ARGON2}$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA"},
		{"bad base64", "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$!!$!!"},
		{"too few parts", "{ARGON2}$argon2id$v=19"},
		{"short sha", "{SHA}AAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.Verify(context.Background(), tc.stored, "secret")
			if err == nil || errors.Is(err, password.ErrMismatch) {
				t.Fatalf("Verify(%q) = %v, want an unsupported-value error", tc.stored, err)
			}
		})
	}
}

func TestVerifyLegacySSHA(t *testing.T) {
	salt := []byte("saltsalt")
	sum := sha1.Sum(append([]byte("secret"), salt...))
	stored := "{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...))
	h := password.NewHasher(password.TestParams(), nil, 1)
	if err := h.Verify(context.Background(), stored, "secret"); err != nil {
		t.Fatalf("SSHA right password: %v", err)
	}
	if err := h.Verify(context.Background(), stored, "nope"); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("SSHA wrong password: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	a, err := password.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := password.Generate(nil)
	if len(a) != 24 || a == b {
		t.Fatalf("Generate gave %q and %q", a, b)
	}
}
