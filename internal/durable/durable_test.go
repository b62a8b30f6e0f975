package durable_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ldapd/ldapd/internal/durable"
)

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := durable.SyncDir(dir); err != nil {
		t.Fatalf("SyncDir(%s) = %v, want nil", dir, err)
	}
	if err := durable.SyncDir(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Fatalf("SyncDir(missing) = %v, want a not-exist error", err)
	}
}
