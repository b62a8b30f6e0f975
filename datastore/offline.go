package datastore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/tokens"
)

// OfflineOptions tune OpenOffline for an import; the zero value suits any
// other command.
type OfflineOptions struct {
	// MmapSize maps the bbolt file with this many bytes at first
	// (boltstore.Options.InitialMmapSize; 0: the file's size, see
	// ImportMmapSize). The etcd store ignores it.
	MmapSize int
	// ImportChunk, if positive, lowers idm.Config.ImportChunk (never
	// raises etcd's); ImportChunkBytes is idm.Config.ImportChunkBytes.
	ImportChunk      int
	ImportChunkBytes int64
	// ImportSpoolDir is idm.Config.ImportSpoolDir.
	ImportSpoolDir string
	// Exclusive opens the bbolt store for a load nothing else reads or
	// writes meanwhile (boltstore.Options.Exclusive: large bulk loads
	// write a new file directly). Only with MmapSize. A load's Adds then
	// keep a sixteenth of ImportChunkBytes of keys in memory together
	// before they write them to a run (boltstore.Options.LoadMemory): at
	// 100k people, runs of 16 MiB took the import's peak RSS from 290 MB
	// (a run per 32768 entries) to 170 MB, in the same time; runs of 64
	// MiB 263 MB.
	Exclusive bool
}

// OpenOffline opens a stopped server's store (the bbolt file of data, or
// the cluster c names) as an idm.Service, bootstrapping it for domain when
// it holds no directory yet; with domain "" the directory must exist (for
// bbolt, ExistingData) and its stored domain is used. The returned
// function closes the store.
func OpenOffline(ctx context.Context, c Config, data, domain string, o OfflineOptions) (*idm.Service, func(), error) {
	if c.Kind != Etcd && domain == "" {
		if err := ExistingData(data); err != nil {
			return nil, nil, err
		}
	}
	var store directory.Store
	var keys *tokens.Keyring
	var err error
	if c.Kind == Etcd || o.MmapSize == 0 {
		store, keys, err = Open(ctx, c, data, 2*time.Second)
	} else {
		store, keys, err = OpenBolt(data, boltstore.Options{Timeout: 2 * time.Second, InitialMmapSize: o.MmapSize, Exclusive: o.Exclusive,
			LoadMemory: o.ImportChunkBytes / 16}, false)
	}
	if err != nil {
		return nil, nil, err
	}
	stored, err := idm.StoredDomain(ctx, store)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	if stored == "" && domain == "" {
		store.Close()
		return nil, nil, fmt.Errorf("%s holds no directory yet: give --domain to create it", data)
	}
	if domain == "" {
		domain = stored
	}
	cfg := idm.Config{Store: store, Domain: domain, Keys: keys, Logger: zerolog.Nop()}
	if c.Kind == Etcd {
		// An entry's Add takes up to ~60 etcd operations (directory/etcdstore).
		cfg.ImportChunk = max(1, c.MaxTxnOps/64)
	}
	if o.ImportChunk > 0 && (cfg.ImportChunk == 0 || o.ImportChunk < cfg.ImportChunk) {
		cfg.ImportChunk = o.ImportChunk // --chunk may lower etcd's, never raise it
	}
	cfg.ImportChunkBytes = o.ImportChunkBytes
	cfg.ImportSpoolDir = o.ImportSpoolDir
	svc, err := idm.New(cfg)
	if err == nil {
		_, err = svc.Bootstrap(ctx) // creates the directory, or checks the domain
	}
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, func() { store.Close() }, nil
}

// ImportMmapSize is the size to map a bbolt file with for the import of an
// LDIF file of ldifSize bytes into data: more than the file will reach, so
// that bbolt never remaps it (and copies every key written so far) while
// it commits the load. The mapping only reserves address space.
func ImportMmapSize(data string, ldifSize int64) int {
	size := int64(64 << 20)
	if fi, err := os.Stat(DBPath(data)); err == nil {
		size += fi.Size()
	}
	size += 8 * ldifSize // a loaded file is about 4-5 times its LDIF
	return int(min(size, 1<<40))
}

// ExistingData refuses, with a *ConfigError, a bbolt data directory that
// holds no database: a mistyped --data must not become a new, empty
// directory with a new signing key. Only serve's first start and import
// --domain make one.
func ExistingData(data string) error {
	_, err := os.Stat(DBPath(data))
	if errors.Is(err, os.ErrNotExist) {
		return configErrorf("%s holds no ldapd.db: is --data (LDAPD_DATA) right? Only ldapd serve --domain (first start) or ldapd import --domain creates a directory",
			data)
	}
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}

// RecoverAccount is idm.RecoverOffline on a stopped server's store (the
// bbolt file of data, which must exist, or the cluster c names): it sets
// a new random password on the account name and returns it.
func RecoverAccount(ctx context.Context, c Config, data, name string) (string, error) {
	if c.Kind != Etcd {
		if err := ExistingData(data); err != nil {
			return "", fmt.Errorf("no server on %s and %w", SocketPath(data), err)
		}
	}
	store, keys, err := Open(ctx, c, data, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer store.Close()
	pw, err := idm.RecoverOffline(ctx, store, keys, name)
	if errors.Is(err, idm.ErrNoDirectory) {
		return "", fmt.Errorf("%s holds no directory yet: start the server once with --domain first", data)
	}
	return pw, err
}
