package tokens_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

func TestLoadKeyringCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "token-keys")
	k, err := tokens.LoadKeyring(path, testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("keyring file mode = %04o, want 0600", perm)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		di, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if perm := di.Mode().Perm(); perm != 0o700 {
			t.Errorf("directory %s mode = %04o, want 0700", d, perm)
		}
	}
	assertNoTempFiles(t, dir)

	// Reloading gives the same keys: a token issued before verifies after.
	store := newMemStore()
	c := &clock{t: t0}
	tok, rec, err := (&tokens.Issuer{Keys: k, Rand: testRand(2), Now: c.Now}).Issue(account1, "l", tokens.ReadOnly, time.Time{}, "a")
	if err != nil {
		t.Fatal(err)
	}
	store.put(rec)
	k2, err := tokens.LoadKeyring(path, constReader(0)) // must not draw new keys
	if err != nil {
		t.Fatal(err)
	}
	if k2.ActiveKeyID() != k.ActiveKeyID() {
		t.Errorf("reloaded active kid %s, want %s", k2.ActiveKeyID(), k.ActiveKeyID())
	}
	if _, _, err := verify(&tokens.Verifier{Keys: k2, Now: c.Now}, store, tok); err != nil {
		t.Errorf("token from the created keyring fails with the reloaded one: %v", err)
	}
}

func TestSaveKeyringAfterRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token-keys")
	k, err := tokens.LoadKeyring(path, testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Rotate(testRand(2)); err != nil {
		t.Fatal(err)
	}
	if err := tokens.SaveKeyring(path, k); err != nil {
		t.Fatal(err)
	}
	k2, err := tokens.LoadKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(k2.KeyIDs(), ","), strings.Join(k.KeyIDs(), ","); got != want {
		t.Errorf("reloaded keys %s, want %s", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode after save = %04o, want 0600", perm)
	}
	assertNoTempFiles(t, filepath.Dir(path))

	if err := tokens.SaveKeyring(path, new(tokens.Keyring)); !errors.Is(err, tokens.ErrNoKeys) {
		t.Errorf("SaveKeyring(empty) = %v, want ErrNoKeys", err)
	}
}

func TestLoadKeyringRefusesOpenPermissions(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token-keys")
			if _, err := tokens.LoadKeyring(path, testRand(1)); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := tokens.LoadKeyring(path, testRand(1))
			if !errors.Is(err, tokens.ErrInsecurePermissions) {
				t.Fatalf("LoadKeyring(%04o) error = %v, want ErrInsecurePermissions", mode, err)
			}
			if !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say how to fix it", err)
			}
		})
	}
	// 0400 is fine: the server only reads it.
	path := filepath.Join(t.TempDir(), "token-keys")
	if _, err := tokens.LoadKeyring(path, testRand(1)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.LoadKeyring(path, nil); err != nil {
		t.Errorf("LoadKeyring(0400): %v", err)
	}
}

func TestLoadKeyringErrors(t *testing.T) {
	dir := t.TempDir()

	corrupt := filepath.Join(dir, "corrupt")
	if err := os.WriteFile(corrupt, []byte("not a keyring"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.LoadKeyring(corrupt, nil); !errors.Is(err, tokens.ErrInvalidKeyring) {
		t.Errorf("corrupt file: %v, want ErrInvalidKeyring", err)
	}

	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.LoadKeyring(huge, nil); !errors.Is(err, tokens.ErrInvalidKeyring) {
		t.Errorf("huge file: %v, want ErrInvalidKeyring", err)
	}

	sub := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.LoadKeyring(sub, nil); err == nil {
		t.Error("LoadKeyring of a directory succeeded")
	}

	// A parent that is a file: cannot create.
	if _, err := tokens.LoadKeyring(filepath.Join(corrupt, "keys"), testRand(1)); err == nil {
		t.Error("LoadKeyring under a regular file succeeded")
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
