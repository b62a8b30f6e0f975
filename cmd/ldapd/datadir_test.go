package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMistypedDataRefused: commands other than serve's first start (and
// import --domain) refuse a data directory that holds no database,
// instead of creating it with a new signing key (issue #19 item 9).
func TestMistypedDataRefused(t *testing.T) {
	ldif := writeFile(t, "in.ldif", slapcatLDIF)
	for _, args := range [][]string{
		{"export"},
		{"recover-account", "admin"},
		{"import", ldif},
		{"verify"},
	} {
		data := filepath.Join(t.TempDir(), "dtaa") // mistyped: does not exist
		_, stderr, code := runCmd(t, append(args, "--data", data)...)
		if code == 0 {
			t.Errorf("%v: exit 0, want a refusal", args)
		}
		if !strings.Contains(stderr, data) {
			t.Errorf("%v: stderr %q does not name %s", args, stderr, data)
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: %s was created (err %v)", args, data, err)
		}
	}
	// An existing directory without a database is refused the same way.
	data := t.TempDir()
	if _, stderr, code := runCmd(t, "export", "--data", data); code == 0 || !strings.Contains(stderr, "holds no ldapd.db") {
		t.Errorf("export of an empty directory: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(keysPath(data)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("export made a signing key in an empty directory: %v", err)
	}
	// import --domain creates a directory: that is how one starts from LDIF.
	fresh := filepath.Join(t.TempDir(), "new")
	if _, stderr, code := runCmd(t, "import", "--data", fresh, "--domain", "idm.example.com", ldif); code != 0 {
		t.Fatalf("import --domain into a new directory: exit %d: %s", code, stderr)
	}
	// ...and a directory whose keyring went missing is not given a new one.
	if err := os.Remove(keysPath(fresh)); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCmd(t, "export", "--data", fresh); code == 0 || !strings.Contains(stderr, keysPath(fresh)) {
		t.Errorf("export with the keyring gone: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(keysPath(fresh)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("export made a new signing key for an existing directory: %v", err)
	}
}
