package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewConfigDefaults checks the default URL, that the generated CA of a
// data directory in the working directory is trusted when no CA file is
// given, and what Trusted says.
func TestNewConfigDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg := NewConfig("", "")
	if cfg.URL != DefaultURL || cfg.CAFile != "" || cfg.Trusted() != "the system's root certificates" {
		t.Errorf("no data directory: %+v, %q", cfg, cfg.Trusted())
	}
	if err := os.MkdirAll(filepath.Dir(DefaultCAFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DefaultCAFile, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg := NewConfig("", ""); cfg.CAFile != DefaultCAFile || cfg.Trusted() != "the CA certificate in "+DefaultCAFile {
		t.Errorf("with %s: %+v, %q", DefaultCAFile, cfg, cfg.Trusted())
	}
	if cfg := NewConfig("ldap://h:389", "other.pem"); cfg.URL != "ldap://h:389" || cfg.CAFile != "other.pem" {
		t.Errorf("given: %+v", cfg)
	}
}

// TestReadPasswordFile checks that the first line is the password, its
// line end dropped, and that an empty or missing file is an error.
func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ body, want, err string }{
		{"s3cret\r\nsecond line\n", "s3cret", ""},
		{"no newline", "no newline", ""},
		{"\nsecond", "", "is empty"},
		{"", "", "is empty"},
	} {
		f := filepath.Join(dir, "pw")
		if err := os.WriteFile(f, []byte(tt.body), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadPasswordFile(f)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: %q, %v; want %q, %q", tt.body, got, err, tt.want, tt.err)
		}
	}
	if _, err := ReadPasswordFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "cannot read the password file") {
		t.Errorf("missing: %v", err)
	}
}
