package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/tokens"
)

// migrateMeta lists the meta keys ldapd writes (the Store interface cannot
// enumerate them): the domain fixed at first start and the POSIX id
// allocators' high-water marks. The domain is written last, in the same
// transaction as the others.
var migrateMeta = []string{"posix.uidNumber.last", "posix.gidNumber.last", "domain"}

func runMigrate(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", args[0], errUsage)
	}
	if o.to != storeEtcd && o.to != storeBolt {
		return fmt.Errorf("--to etcd or --to bolt is required: %w", errUsage)
	}
	o.store.kind = storeEtcd
	if err := o.store.check(); err != nil {
		return err
	}
	kek, err := tokens.LoadKEK(o.store.kek)
	if err != nil {
		return err
	}
	if o.to == storeEtcd {
		if err := existingData(o.data); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	if o.to == storeBolt {
		if _, err := os.Stat(dbPath(o.data)); err == nil {
			return fmt.Errorf("%s exists; migrate into an empty data directory: %w", dbPath(o.data), errUsage)
		}
	} else if _, err := os.Stat(dbPath(o.data)); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	etcd, err := o.store.openEtcd(ctx)
	if err != nil {
		return err
	}
	defer etcd.Close()
	var etcdKeys *tokens.Keyring
	if o.to == storeBolt {
		// Open the keys first: with the wrong KEK nothing is written.
		if etcdKeys, err = openEtcdKeyring(ctx, etcd, kek); err != nil {
			return err
		}
	}
	bolt, err := boltstore.Open(dbPath(o.data), boltstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer bolt.Close()
	src, dst := bolt, etcd
	if o.to == storeBolt {
		src, dst = etcd, bolt
	}
	start := time.Now()
	st, err := migrateStores(ctx, src, dst, o.store.maxTxnOps)
	if err != nil {
		return err
	}
	if err := migrateKeys(ctx, o.data, etcd, kek, etcdKeys); err != nil {
		return err
	}
	for _, s := range []directory.Store{src, dst} {
		if v, ok := directory.As[directory.Verifier](s); ok {
			if err := v.Verify(ctx); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(e.stdout, "copied %d entries (%d already there) and %d meta keys to %s in %v; both stores verified\n",
		st.added, st.skipped, st.meta, o.to, time.Since(start).Round(time.Millisecond))
	return nil
}

type migrateStats struct{ added, skipped, meta int }

// migrateStores copies every entry of src to dst, parents first, and then
// the meta keys. Entries go in batches that shrink when a batch is too
// large for one etcd transaction; each batch's fn is idempotent (it skips
// entries that exist), as an Update over etcd requires.
func migrateStores(ctx context.Context, src, dst directory.Store, maxOps int) (migrateStats, error) {
	var st migrateStats
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
		for _, k := range migrateMeta {
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
			return st, fmt.Errorf("after %d entries (run the same migrate again to resume): %w", st.added, err)
		}
		st.added += added
		st.skipped += skipped
		i += len(chunk)
	}
	err = dst.Update(ctx, func(tx directory.WriteTx) error {
		for _, k := range migrateMeta {
			if v, ok := meta[k]; ok {
				if err := tx.SetMeta(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	st.meta = len(meta)
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

// migrateKeys moves the token signing keys with the directory: into etcd,
// sealed with kek (etcdKeys nil), or the keys opened from etcd into
// DATA/keys/tokens.key. Existing keys in the destination that differ are
// an error: tokens would stop working.
func migrateKeys(ctx context.Context, data string, etcd directory.Store, kek []byte, etcdKeys *tokens.Keyring) error {
	if etcdKeys == nil {
		local, err := tokens.LoadKeyring(keysPath(data), nil)
		if err != nil {
			return err
		}
		shared, err := sharedKeyring(ctx, etcd, kek, local, false)
		if err != nil {
			return err
		}
		if !slices.Equal(shared.KeyIDs(), local.KeyIDs()) {
			return fmt.Errorf("etcd already holds other token signing keys (%v, local %v): tokens issued before the migration would fail",
				shared.KeyIDs(), local.KeyIDs())
		}
		return nil
	}
	if _, err := os.Stat(keysPath(data)); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists; migrate into an empty data directory", keysPath(data))
	}
	return tokens.SaveKeyring(keysPath(data), etcdKeys)
}

// openEtcdKeyring opens the keyring sealed in an etcd store.
func openEtcdKeyring(ctx context.Context, etcd directory.Store, kek []byte) (*tokens.Keyring, error) {
	var sealed []byte
	err := etcd.View(ctx, func(tx directory.ReadTx) (err error) {
		sealed, err = tx.Meta(metaSealedKeyring)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("token signing keys in etcd: %w", err)
	}
	keys, err := tokens.OpenSealedKeyring(sealed, kek)
	if errors.Is(err, tokens.ErrSealedKeyring) {
		return nil, fmt.Errorf("%w (is --keyring-kek the file the ldapd nodes use?)", err)
	}
	return keys, err
}
