package stacktest

import (
	"context"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/tokens"
)

// OpenStore opens a bbolt store in a new temporary directory; it is closed
// when t ends. For tests that build an idm.Service without the server.
func OpenStore(t testing.TB) directory.Store {
	t.Helper()
	store, err := boltstore.Open(t.TempDir()+"/ldapd.db", boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// NewService returns a bootstrapped idm.Service over cfg, with what cfg
// leaves unset filled in: Store (OpenStore), Keys (a new keyring) and
// Domain. The Hasher stays as given (nil: argon2id at its defaults).
func NewService(t testing.TB, cfg idm.Config) *idm.Service {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = OpenStore(t)
	}
	if cfg.Keys == nil {
		keys, err := tokens.NewKeyring(nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Keys = keys
	}
	if cfg.Domain == "" {
		cfg.Domain = Domain
	}
	svc, err := idm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}
