package datastore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/datastore"
)

// TestOpenOffline: without a domain a data directory with no database is
// refused with a *ConfigError and left uncreated; with one it is created
// and bootstrapped, and opened again without the domain it answers with
// the stored one. A mapped open (import) opens the same directory.
func TestOpenOffline(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	var ce *datastore.ConfigError
	if _, _, err := datastore.OpenOffline(ctx, datastore.Config{}, data, "", datastore.OfflineOptions{}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "holds no ldapd.db") {
		t.Fatalf("missing directory: %v, want a *ConfigError", err)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused open created %s (%v)", data, err)
	}
	svc, closeStore, err := datastore.OpenOffline(ctx, datastore.Config{}, data, "idm.example.com", datastore.OfflineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	if got := svc.Base().String(); got != "dc=idm,dc=example,dc=com" {
		t.Errorf("base %q", got)
	}
	if err := datastore.ExistingData(data); err != nil {
		t.Fatal(err)
	}
	size := datastore.ImportMmapSize(data, 1<<20)
	if size < 64<<20+8<<20 {
		t.Errorf("ImportMmapSize = %d, want at least 64 MiB + 8 times the LDIF", size)
	}
	svc, closeStore, err = datastore.OpenOffline(ctx, datastore.Config{}, data, "", datastore.OfflineOptions{MmapSize: size})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if got := svc.Base().String(); got != "dc=idm,dc=example,dc=com" {
		t.Errorf("reopened without --domain: base %q", got)
	}
}
