// Package storemigrate copies a whole directory between the embedded bbolt
// file of a data directory and an etcd cluster, in either direction, with
// its token signing keys (ldapd migrate).
//
// # Basics
//
// [Run] copies entry by entry through the directory.Store interface:
// entries keep their DNs, attributes, entryUUIDs, password hashes and
// timestamps, and API tokens keep working because the signing keys move
// too (sealed with the key-encryption key in etcd, DATA/keys/tokens.key in
// bbolt). [Copy] is the entry and meta-key copy alone, between any two
// stores. Both stores are verified at the end.
//
// # Caveats
//
// Every ldapd writing to the source must be stopped first. The copy is
// resumable: entries already in the destination are skipped, and the
// domain is written last, so a destination that was only partly copied is
// never served. A destination holding another domain's directory is
// refused.
package storemigrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/tokens"
)

// metaKeys lists the meta keys ldapd writes (the Store interface cannot
// enumerate them): the domain fixed at first start and the POSIX id
// allocators' high-water marks. The domain is written last, in the same
// transaction as the others.
var metaKeys = []string{"posix.uidNumber.last", "posix.gidNumber.last", "domain"}

// Options say what to migrate where.
type Options struct {
	// To is the destination: datastore.Etcd copies DATA/ldapd.db into etcd,
	// datastore.Bolt copies etcd into DATA/ldapd.db (which must not exist).
	To string
	// Data is the data directory: the source, or the destination.
	Data string
	// Etcd is the cluster, with the key-encryption key (KEK) that seals
	// the keyring in it.
	Etcd datastore.Config
}

// Stats count what a migration copied.
type Stats struct {
	Added   int // entries written
	Skipped int // entries already in the destination
	Meta    int // meta keys written
}

// Run migrates the directory as o says and verifies both stores.
func Run(ctx context.Context, o Options) (Stats, error) {
	if o.To != datastore.Etcd && o.To != datastore.Bolt {
		return Stats{}, &datastore.ConfigError{Msg: "--to etcd or --to bolt is required"}
	}
	kek, err := tokens.LoadKEK(o.Etcd.KEK)
	if err != nil {
		return Stats{}, err
	}
	if err := os.MkdirAll(o.Data, 0o700); err != nil {
		return Stats{}, err
	}
	db := datastore.DBPath(o.Data)
	if o.To == datastore.Bolt {
		if _, err := os.Stat(db); err == nil {
			return Stats{}, &datastore.ConfigError{Msg: db + " exists; migrate into an empty data directory"}
		}
	} else if _, err := os.Stat(db); err != nil {
		return Stats{}, fmt.Errorf("source: %w", err)
	}
	etcd, err := datastore.OpenEtcd(ctx, o.Etcd)
	if err != nil {
		return Stats{}, err
	}
	defer etcd.Close()
	var etcdKeys *tokens.Keyring
	if o.To == datastore.Bolt {
		// Open the keys first: with the wrong KEK nothing is written.
		if etcdKeys, err = datastore.OpenSealedKeyring(ctx, etcd, kek); err != nil {
			return Stats{}, err
		}
	}
	bolt, err := boltstore.Open(db, boltstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		return Stats{}, err
	}
	defer bolt.Close()
	src, dst := directory.Store(bolt), etcd
	if o.To == datastore.Bolt {
		src, dst = etcd, bolt
	}
	st, err := Copy(ctx, src, dst, o.Etcd.MaxTxnOps)
	if err != nil {
		return st, err
	}
	if err := moveKeys(ctx, o.Data, etcd, kek, etcdKeys); err != nil {
		return st, err
	}
	for _, s := range []directory.Store{src, dst} {
		if v, ok := directory.As[directory.Verifier](s); ok {
			if err := v.Verify(ctx); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// Copy copies every entry of src to dst, parents first, and then the meta
// keys. Entries go in batches of maxOps/16 that shrink when a batch is too
// large for one etcd transaction; each batch's fn is idempotent (it skips
// entries that exist), as an Update over etcd requires.
func Copy(ctx context.Context, src, dst directory.Store, maxOps int) (Stats, error) {
	var st Stats
	all, err := directory.ParseFilter("(objectClass=*)", directory.Builtin())
	if err != nil {
		return st, err
	}
	var entries []*directory.Entry
	meta := map[string][]byte{}
	err = src.View(ctx, func(tx directory.ReadTx) error {
		entries = entries[:0]
		if err := tx.Search(directory.DN{}, directory.ScopeSub, all, func(e *directory.Entry) error {
			entries = append(entries, e)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range metaKeys {
			v, err := tx.Meta(k)
			if errors.Is(err, directory.ErrMetaNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			meta[k] = v
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("read the source: %w", err)
	}
	if meta["domain"] == nil {
		return st, errors.New("the source holds no directory (no domain)")
	}
	if err := checkDomain(ctx, dst, meta["domain"]); err != nil {
		return st, err
	}
	slices.SortStableFunc(entries, func(a, b *directory.Entry) int { return a.DN.Depth() - b.DN.Depth() })
	batch := max(1, maxOps/16)
	for i := 0; i < len(entries); {
		chunk := entries[i:min(i+batch, len(entries))]
		var added, skipped int
		err := dst.Update(ctx, func(tx directory.WriteTx) error {
			added, skipped = 0, 0
			for _, e := range chunk {
				if _, err := tx.Get(e.DN); err == nil {
					skipped++
					continue
				} else if !errors.Is(err, directory.ErrNoSuchObject) {
					return err
				}
				if err := tx.Add(e.Clone()); err != nil {
					return fmt.Errorf("add %s: %w", e.DN, err)
				}
				added++
			}
			return nil
		})
		if errors.Is(err, etcdstore.ErrTxnTooLarge) && len(chunk) > 1 {
			batch = max(1, len(chunk)/2)
			continue
		}
		if err != nil {
			return st, fmt.Errorf("after %d entries (run the same migrate again to resume): %w", st.Added, err)
		}
		st.Added += added
		st.Skipped += skipped
		i += len(chunk)
	}
	err = dst.Update(ctx, func(tx directory.WriteTx) error {
		for _, k := range metaKeys {
			if v, ok := meta[k]; ok {
				if err := tx.SetMeta(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	st.Meta = len(meta)
	return st, err
}

// checkDomain refuses a destination that holds another domain's directory.
func checkDomain(ctx context.Context, dst directory.Store, domain []byte) error {
	return dst.View(ctx, func(tx directory.ReadTx) error {
		v, err := tx.Meta("domain")
		switch {
		case errors.Is(err, directory.ErrMetaNotFound):
			return nil
		case err != nil:
			return err
		case !bytes.Equal(v, domain):
			return fmt.Errorf("the destination holds the directory of %q, not %q", v, domain)
		}
		return nil
	})
}

// moveKeys moves the token signing keys with the directory: into etcd,
// sealed with kek (etcdKeys nil), or the keys opened from etcd into
// DATA/keys/tokens.key. Existing keys in the destination that differ are
// an error: tokens would stop working.
func moveKeys(ctx context.Context, data string, etcd directory.Store, kek []byte, etcdKeys *tokens.Keyring) error {
	keysPath := datastore.KeysPath(data)
	if etcdKeys == nil {
		local, err := tokens.LoadKeyring(keysPath, nil)
		if err != nil {
			return err
		}
		shared, err := datastore.SharedKeyring(ctx, etcd, kek, local, false)
		if err != nil {
			return err
		}
		if !slices.Equal(shared.KeyIDs(), local.KeyIDs()) {
			return fmt.Errorf("etcd already holds other token signing keys (%v, local %v): tokens issued before the migration would fail",
				shared.KeyIDs(), local.KeyIDs())
		}
		return nil
	}
	if _, err := os.Stat(keysPath); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists; migrate into an empty data directory", keysPath)
	}
	return tokens.SaveKeyring(keysPath, etcdKeys)
}
