package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory/etcdstore"
)

// storeConfig holds the store flags: which directory store to open (the
// embedded bbolt file in the data directory, the default, or an etcd
// cluster shared by several ldapd nodes, docs/scale-out.md). Opening it is
// package datastore's; options turns the flags into its Config.
type storeConfig struct{ datastore.Config }

const (
	storeBolt = datastore.Bolt
	storeEtcd = datastore.Etcd
)

// register adds the store flags to fs.
func (c *storeConfig) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.Kind, "store", storeBolt,
		"where the directory lives: bolt (DATA/ldapd.db) or etcd (--etcd-endpoints; docs/scale-out.md) (env LDAPD_STORE)")
	fs.StringVar(&c.Endpoints, "etcd-endpoints", "",
		"comma-separated etcd client URLs, e.g. https://etcd1:2379,https://etcd2:2379 (env LDAPD_ETCD_ENDPOINTS)")
	fs.StringVar(&c.CA, "etcd-ca", "", "PEM CA certificate of the etcd cluster (env LDAPD_ETCD_CA)")
	fs.StringVar(&c.Cert, "etcd-cert", "", "PEM client certificate for etcd (env LDAPD_ETCD_CERT)")
	fs.StringVar(&c.Key, "etcd-key", "", "PEM private key of --etcd-cert (env LDAPD_ETCD_KEY)")
	fs.StringVar(&c.Prefix, "etcd-prefix", etcdstore.DefaultPrefix,
		"key prefix of this directory in etcd (env LDAPD_ETCD_PREFIX)")
	fs.StringVar(&c.KEK, "keyring-kek", "",
		"with --store etcd: file of the 32-byte key that seals the token signing keys kept in etcd; the same file on every node (env LDAPD_KEYRING_KEK)")
	fs.BoolVar(&c.AllowPlaintext, "etcd-allow-plaintext", false,
		"with --store etcd: accept etcd endpoints without TLS (http://, unix://, or HOST:PORT with no --etcd-ca/--etcd-cert), loopback included; etcd holds every password hash and the sealed signing keys, so not recommended (env LDAPD_ETCD_ALLOW_PLAINTEXT=true)")
	fs.BoolVar(&c.RegenerateKeyring, "keyring-regenerate", false,
		"with --store etcd: if the sealed token signing keys are missing from a directory that has entries, make new ones; every token issued before stops working. Without it such a start is refused. Use once, after a restore from backup proved impossible (env LDAPD_KEYRING_REGENERATE=true)")
	fs.IntVar(&c.MaxTxnOps, "etcd-max-txn-ops", etcdstore.DefaultMaxTxnOps,
		"the etcd cluster's --max-txn-ops (env LDAPD_ETCD_MAX_TXN_OPS)")
	fs.IntVar(&c.MaxTxnBytes, "etcd-max-request-bytes", etcdstore.DefaultMaxTxnBytes,
		"the etcd cluster's --max-request-bytes (env LDAPD_ETCD_MAX_REQUEST_BYTES)")
}

// registerView adds the flags of the local view (`ldapd serve` only).
func (c *storeConfig) registerView(fs *pflag.FlagSet) {
	fs.StringVar(&c.Consistency, "etcd-consistency", etcdstore.Local.String(),
		"with --store etcd, what reads read: view (a watch-fed local copy, staleness bounded by --etcd-max-staleness), linearizable (the view after one etcd round trip per read) or direct (etcd for every read) (env LDAPD_ETCD_CONSISTENCY)")
	fs.DurationVar(&c.MaxStaleness, "etcd-max-staleness", etcdstore.DefaultMaxStaleness,
		"with the view: refuse operations (busy) and report not ready once the view cannot be confirmed current for this long (env LDAPD_ETCD_MAX_STALENESS)")
	fs.Int64Var(&c.ViewMaxBytes, "etcd-view-max-bytes", 0,
		"cap on the view's memory in bytes; past it the node drops the view and reads etcd directly; 0: no cap (env LDAPD_ETCD_VIEW_MAX_BYTES)")
}

// options is the datastore configuration the flags select.
func (c *storeConfig) options() datastore.Config { return c.Config }

// check validates the flags after parsing.
func (c *storeConfig) check() error { return usageIf(c.options().Check()) }

// usageIf marks a configuration mistake (datastore.ConfigError) as a usage
// error: exit status 2.
func usageIf(err error) error {
	if ce := (*datastore.ConfigError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("%w: %w", err, errUsage)
	}
	return err
}
