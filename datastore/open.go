package datastore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/tokens"
)

// Open opens the store c selects and its token signing keys. With bbolt
// they are DBPath(data) and KeysPath(data), waiting up to lockTimeout for
// the file's lock; with etcd, the store is the cluster and the keyring is
// kept in it sealed with the key-encryption key, created by the first node
// that finds none (SharedKeyring). The caller closes the store.
func Open(ctx context.Context, c Config, data string, lockTimeout time.Duration) (directory.Store, *tokens.Keyring, error) {
	if c.Kind != Etcd {
		return OpenBolt(data, boltstore.Options{Timeout: lockTimeout}, c.RegenerateKeyring)
	}
	if err := c.Check(); err != nil {
		return nil, nil, err
	}
	kek, err := tokens.LoadKEK(c.KEK)
	if err != nil {
		return nil, nil, err
	}
	store, err := OpenEtcd(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	keys, err := SharedKeyring(ctx, store, kek, nil, c.RegenerateKeyring)
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("token signing keys: %w", err)
	}
	return store, keys, nil
}

// OpenBolt opens the bbolt store and signing keys of a data directory,
// creating the directory (0700) if needed. Keys are made when there are
// none only for a directory never started, or with regenerate: new keys
// would silently invalidate every token issued.
func OpenBolt(data string, opts boltstore.Options, regenerate bool) (directory.Store, *tokens.Keyring, error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	store, err := boltstore.Open(DBPath(data), opts)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(KeysPath(data)); errors.Is(err, os.ErrNotExist) && !regenerate {
		if err := store.View(context.Background(), RequireEmpty); err != nil {
			store.Close()
			return nil, nil, fmt.Errorf("%s: %w", KeysPath(data), err)
		}
	}
	keys, err := tokens.LoadKeyring(KeysPath(data), nil)
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("token signing keys: %w", err)
	}
	return store, keys, nil
}

// OpenEtcd connects to the cluster c names and opens the store; the
// store's Close closes the client. It needs no key-encryption key.
func OpenEtcd(ctx context.Context, c Config) (directory.Store, error) {
	// The client logs every retried request at warn level: a serializable
	// read that reached a member behind the snapshot (etcdstore reads it
	// again), a leader change. Those are handled; errors are still logged.
	zl, err := zap.NewProductionConfig().Build(zap.IncreaseLevel(zap.ErrorLevel))
	if err != nil {
		return nil, err
	}
	cfg := clientv3.Config{DialTimeout: 5 * time.Second, DialKeepAliveTime: 10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second, MaxCallSendMsgSize: c.MaxTxnBytes + 1<<20, Logger: zl}
	if err := c.checkPlaintext(); err != nil {
		return nil, err
	}
	cfg.Endpoints = c.EndpointList()
	if cfg.TLS, err = c.etcdTLS(); err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", c.Endpoints, err)
	}
	opts := etcdstore.Options{Prefix: c.Prefix, MaxTxnOps: c.MaxTxnOps, MaxTxnBytes: c.MaxTxnBytes, CloseClient: true,
		MaxStaleness: c.MaxStaleness, ViewMaxBytes: c.ViewMaxBytes}
	timeout := 10 * time.Second
	if c.Consistency != "" {
		if opts.Consistency, err = etcdstore.ParseConsistency(c.Consistency); err != nil {
			cli.Close()
			return nil, err
		}
		if opts.Consistency != etcdstore.Direct {
			timeout = 10 * time.Minute // loading the view reads the whole directory
		}
	}
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	store, err := etcdstore.Open(octx, cli, opts)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd %s: %w", c.Endpoints, err)
	}
	return store, nil
}

// etcdTLS is the client's TLS configuration: nil unless CA or Cert is set.
func (c Config) etcdTLS() (*tls.Config, error) {
	if c.CA == "" && c.Cert == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("--etcd-ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--etcd-ca %s: no PEM certificate", c.CA)
		}
	}
	if c.Cert != "" {
		pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}
