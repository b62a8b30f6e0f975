package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecureDataDir: a missing data directory is made 0700, a 0755 or
// 0750 one tightened to 0700 (the old mode returned for the warning), a
// 0700 one left alone; a directory whose mode cannot be changed (procfs
// refuses chmod, even to root) and a file are refused.
func TestSecureDataDir(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "new")
	if was, err := secureDataDir(missing); err != nil || was != 0 {
		t.Fatalf("missing dir: %v, %v", was, err)
	}
	for _, mode := range []os.FileMode{0o755, 0o750, 0o701, 0o777} {
		d := filepath.Join(base, mode.String())
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		was, err := secureDataDir(d)
		st, _ := os.Stat(d)
		if err != nil || was != mode || st.Mode().Perm() != 0o700 {
			t.Errorf("dir %v: returned %v, %v; mode now %v, want 0700", mode, was, err, st.Mode().Perm())
		}
	}
	for _, d := range []string{missing, base + "/" + os.FileMode(0o755).String()} {
		if was, err := secureDataDir(d); err != nil || was != 0 {
			t.Errorf("0700 dir %s: %v, %v; want left alone", d, was, err)
		}
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := secureDataDir(file); err == nil {
		t.Error("a file was accepted as the data directory")
	}
	if st, err := os.Stat("/proc/self"); err == nil && st.Mode().Perm()&0o077 != 0 {
		if _, err := secureDataDir("/proc/self"); err == nil || !strings.Contains(err.Error(), "cannot be tightened to 0700") {
			t.Errorf("a directory that cannot be tightened: %v, want a refusal", err)
		}
	}
}
