package datastore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
)

// Verify checks the store c configures (VerifyFile on the bbolt file of
// data, or VerifyEtcd) and returns what it checked: the file's path, or
// "etcd ENDPOINTS (prefix PREFIX)".
func Verify(ctx context.Context, c Config, data string) (string, error) {
	if c.Kind == Etcd {
		return fmt.Sprintf("etcd %s (prefix %s)", c.Endpoints, c.Prefix), VerifyEtcd(ctx, c)
	}
	path := DBPath(data)
	if _, err := os.Stat(path); err != nil {
		return path, fmt.Errorf("verify: %w", err)
	}
	return path, VerifyFile(ctx, path)
}

// VerifyFile opens the bbolt database at path (the server must be
// stopped: it waits 2 seconds for the file's lock) and checks it with
// boltstore's Verify: every entry decodes and has its DN key and parent,
// every index agrees with the entries, and the page structure is sound.
func VerifyFile(ctx context.Context, path string) error {
	s, err := boltstore.Open(path, boltstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer s.Close()
	return verify(ctx, s)
}

// VerifyEtcd checks the etcd store c names with its Verify. It reads at
// one revision, so the ldapd nodes may keep serving; it needs no
// key-encryption key.
func VerifyEtcd(ctx context.Context, c Config) error {
	if c.Endpoints == "" {
		return configErrorf("--store etcd needs --etcd-endpoints")
	}
	store, err := OpenEtcd(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	return verify(ctx, store)
}

func verify(ctx context.Context, s directory.Store) error {
	v, ok := directory.As[directory.Verifier](s)
	if !ok {
		return errors.New("verify: the store cannot verify itself")
	}
	return v.Verify(ctx)
}
