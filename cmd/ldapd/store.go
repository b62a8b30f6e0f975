package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/metrics"
	"github.com/ldapd/ldapd/tokens"
)

// storeConfig selects the directory store: the embedded bbolt file in the
// data directory (the default) or an etcd cluster shared by several ldapd
// nodes (docs/scale-out.md).
type storeConfig struct {
	kind        string // "bolt" or "etcd"
	endpoints   string // comma-separated etcd client URLs
	ca          string // PEM CA of the etcd cluster
	cert, key   string // client certificate and key for etcd
	prefix      string // key prefix in etcd
	kek         string // key-encryption key file for the shared keyring
	maxTxnOps   int    // the cluster's --max-txn-ops
	maxTxnBytes int    // the cluster's --max-request-bytes
	// allowPlaintext is --etcd-allow-plaintext: connect to etcd endpoints
	// without TLS (plaintextEndpoints), which are refused otherwise.
	allowPlaintext bool
	// regenerateKeyring is --keyring-regenerate: make a new keyring even
	// though the directory has entries (sharedKeyring refuses otherwise).
	regenerateKeyring bool
	// The local view of `ldapd serve` (registerView); the other commands
	// leave consistency empty and read etcd directly.
	consistency  string        // view, linearizable or direct
	maxStaleness time.Duration // the view's staleness bound
	viewMaxBytes int64         // the view's memory cap, 0: none
}

const (
	storeBolt = "bolt"
	storeEtcd = "etcd"
)

// metaSealedKeyring is the meta key of the token keyring, sealed with the
// key-encryption key, in an etcd store.
const metaSealedKeyring = "tokens.keyring.sealed"

// register adds the store flags to fs.
func (c *storeConfig) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.kind, "store", storeBolt,
		"where the directory lives: bolt (DATA/ldapd.db) or etcd (--etcd-endpoints; docs/scale-out.md) (env LDAPD_STORE)")
	fs.StringVar(&c.endpoints, "etcd-endpoints", "",
		"comma-separated etcd client URLs, e.g. https://etcd1:2379,https://etcd2:2379 (env LDAPD_ETCD_ENDPOINTS)")
	fs.StringVar(&c.ca, "etcd-ca", "", "PEM CA certificate of the etcd cluster (env LDAPD_ETCD_CA)")
	fs.StringVar(&c.cert, "etcd-cert", "", "PEM client certificate for etcd (env LDAPD_ETCD_CERT)")
	fs.StringVar(&c.key, "etcd-key", "", "PEM private key of --etcd-cert (env LDAPD_ETCD_KEY)")
	fs.StringVar(&c.prefix, "etcd-prefix", etcdstore.DefaultPrefix,
		"key prefix of this directory in etcd (env LDAPD_ETCD_PREFIX)")
	fs.StringVar(&c.kek, "keyring-kek", "",
		"with --store etcd: file of the 32-byte key that seals the token signing keys kept in etcd; the same file on every node (env LDAPD_KEYRING_KEK)")
	fs.BoolVar(&c.allowPlaintext, "etcd-allow-plaintext", false,
		"with --store etcd: accept etcd endpoints without TLS (http://, unix://, or HOST:PORT with no --etcd-ca/--etcd-cert), loopback included; etcd holds every password hash and the sealed signing keys, so not recommended (env LDAPD_ETCD_ALLOW_PLAINTEXT=true)")
	fs.BoolVar(&c.regenerateKeyring, "keyring-regenerate", false,
		"with --store etcd: if the sealed token signing keys are missing from a directory that has entries, make new ones; every token issued before stops working. Without it such a start is refused. Use once, after a restore from backup proved impossible (env LDAPD_KEYRING_REGENERATE=true)")
	fs.IntVar(&c.maxTxnOps, "etcd-max-txn-ops", etcdstore.DefaultMaxTxnOps,
		"the etcd cluster's --max-txn-ops (env LDAPD_ETCD_MAX_TXN_OPS)")
	fs.IntVar(&c.maxTxnBytes, "etcd-max-request-bytes", etcdstore.DefaultMaxTxnBytes,
		"the etcd cluster's --max-request-bytes (env LDAPD_ETCD_MAX_REQUEST_BYTES)")
}

// registerView adds the flags of the local view (`ldapd serve` only).
func (c *storeConfig) registerView(fs *pflag.FlagSet) {
	fs.StringVar(&c.consistency, "etcd-consistency", etcdstore.Local.String(),
		"with --store etcd, what reads read: view (a watch-fed local copy, staleness bounded by --etcd-max-staleness), linearizable (the view after one etcd round trip per read) or direct (etcd for every read) (env LDAPD_ETCD_CONSISTENCY)")
	fs.DurationVar(&c.maxStaleness, "etcd-max-staleness", etcdstore.DefaultMaxStaleness,
		"with the view: refuse operations (busy) and report not ready once the view cannot be confirmed current for this long (env LDAPD_ETCD_MAX_STALENESS)")
	fs.Int64Var(&c.viewMaxBytes, "etcd-view-max-bytes", 0,
		"cap on the view's memory in bytes; past it the node drops the view and reads etcd directly; 0: no cap (env LDAPD_ETCD_VIEW_MAX_BYTES)")
}

// check validates the flags after parsing.
func (c *storeConfig) check() error {
	switch c.kind {
	case storeBolt:
		return nil
	case storeEtcd:
	default:
		return fmt.Errorf("invalid --store %q: want bolt or etcd: %w", c.kind, errUsage)
	}
	if c.endpoints == "" {
		return fmt.Errorf("--store etcd needs --etcd-endpoints: %w", errUsage)
	}
	if c.kek == "" {
		return fmt.Errorf("--store etcd needs --keyring-kek FILE (32 random bytes, e.g. openssl rand -hex 32 > kek; chmod 600 kek), the same on every node: %w", errUsage)
	}
	if (c.cert == "") != (c.key == "") {
		return fmt.Errorf("--etcd-cert and --etcd-key go together: %w", errUsage)
	}
	if c.consistency != "" {
		if _, err := etcdstore.ParseConsistency(c.consistency); err != nil {
			return fmt.Errorf("--etcd-consistency: %w: %w", err, errUsage)
		}
	}
	return c.checkPlaintext()
}

// endpointList returns the comma-separated endpoints, trimmed.
func (c *storeConfig) endpointList() []string {
	var eps []string
	for _, ep := range strings.Split(c.endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return eps
}

// plaintextEndpoints returns the endpoints the etcd client would reach
// without TLS: http:// and unix:// ones always, and those without a scheme
// (HOST:PORT) unless --etcd-ca or --etcd-cert configures TLS, as
// clientv3 decides. Loopback endpoints are not exempt: an etcd that
// speaks plaintext on 127.0.0.1 rarely checks clients either, and every
// password hash is in it.
func (c *storeConfig) plaintextEndpoints() []string {
	tlsConfigured := c.ca != "" || c.cert != ""
	var plain []string
	for _, ep := range c.endpointList() {
		scheme, _, hasScheme := strings.Cut(ep, "://")
		if !hasScheme { // unix:PATH, unixs:PATH
			if s, _, ok := strings.Cut(ep, ":"); ok && (s == "unix" || s == "unixs") {
				scheme, hasScheme = s, true
			}
		}
		switch {
		case hasScheme && (scheme == "https" || scheme == "unixs"):
		case hasScheme && (scheme == "http" || scheme == "unix"):
			plain = append(plain, ep)
		case !tlsConfigured:
			plain = append(plain, ep)
		}
	}
	return plain
}

// checkPlaintext refuses plaintext endpoints unless --etcd-allow-plaintext.
func (c *storeConfig) checkPlaintext() error {
	if plain := c.plaintextEndpoints(); len(plain) > 0 && !c.allowPlaintext {
		return fmt.Errorf("etcd endpoint %s is not TLS: etcd holds every password hash and the sealed token keys, so ldapd refuses it. "+
			"Use https:// endpoints (with --etcd-ca, and --etcd-cert/--etcd-key if etcd checks clients), or accept the risk with --etcd-allow-plaintext "+
			"(env LDAPD_ETCD_ALLOW_PLAINTEXT=true): %w", strings.Join(plain, ","), errUsage)
	}
	return nil
}

// openData opens the configured store and the token signing keys. With
// bolt they are DATA/ldapd.db and DATA/keys/tokens.key (openData in
// serve.go); with etcd, the store is the cluster and the keyring is kept
// in it sealed with --keyring-kek, created by the first node that finds
// none.
func (c *storeConfig) openData(ctx context.Context, data string, lockTimeout time.Duration) (directory.Store, *tokens.Keyring, error) {
	if c.kind != storeEtcd {
		return openData(data, lockTimeout, c.regenerateKeyring)
	}
	if err := c.check(); err != nil {
		return nil, nil, err
	}
	kek, err := tokens.LoadKEK(c.kek)
	if err != nil {
		return nil, nil, err
	}
	store, err := c.openEtcd(ctx)
	if err != nil {
		return nil, nil, err
	}
	keys, err := sharedKeyring(ctx, store, kek, nil, c.regenerateKeyring)
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("token signing keys: %w", err)
	}
	return store, keys, nil
}

// openEtcd connects to the cluster and opens the store; the store's Close
// closes the client.
func (c *storeConfig) openEtcd(ctx context.Context) (directory.Store, error) {
	// The client logs every retried request at warn level: a serializable
	// read that reached a member behind the snapshot (etcdstore reads it
	// again), a leader change. Those are handled; errors are still logged.
	zl, err := zap.NewProductionConfig().Build(zap.IncreaseLevel(zap.ErrorLevel))
	if err != nil {
		return nil, err
	}
	cfg := clientv3.Config{DialTimeout: 5 * time.Second, DialKeepAliveTime: 10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second, MaxCallSendMsgSize: c.maxTxnBytes + 1<<20, Logger: zl}
	if err := c.checkPlaintext(); err != nil {
		return nil, err
	}
	cfg.Endpoints = c.endpointList()
	if c.ca != "" || c.cert != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.ca != "" {
			pem, err := os.ReadFile(c.ca)
			if err != nil {
				return nil, fmt.Errorf("--etcd-ca: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--etcd-ca %s: no PEM certificate", c.ca)
			}
		}
		if c.cert != "" {
			pair, err := tls.LoadX509KeyPair(c.cert, c.key)
			if err != nil {
				return nil, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", c.endpoints, err)
	}
	opts := etcdstore.Options{Prefix: c.prefix, MaxTxnOps: c.maxTxnOps, MaxTxnBytes: c.maxTxnBytes, CloseClient: true,
		MaxStaleness: c.maxStaleness, ViewMaxBytes: c.viewMaxBytes}
	timeout := 10 * time.Second
	if c.consistency != "" {
		if opts.Consistency, err = etcdstore.ParseConsistency(c.consistency); err != nil {
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
		return nil, fmt.Errorf("etcd %s: %w", c.endpoints, err)
	}
	return store, nil
}

// sharedKeyring returns the keyring sealed in store. If there is none, it
// stores initial (the keys a migration brings), or a fresh keyring if
// initial is nil, but a fresh one only into an empty directory: the first
// of several nodes starting at once wins, and every node ends up with its
// keyring. A directory that already has its domain (or a first start in
// progress) but no keyring lost it: a new keyring would silently
// invalidate every token issued, so that is refused with the fix.
//
// regenerate lifts that refusal, on the operator's explicit request.
func sharedKeyring(ctx context.Context, store directory.Store, kek []byte, initial *tokens.Keyring, regenerate bool) (*tokens.Keyring, error) {
	fresh := initial == nil
	if fresh {
		var err error
		if initial, err = tokens.NewKeyring(nil); err != nil {
			return nil, err
		}
	}
	mine, err := tokens.SealKeyring(initial, kek, nil)
	if err != nil {
		return nil, err
	}
	var sealed []byte
	err = store.Update(ctx, func(tx directory.WriteTx) error {
		v, err := tx.Meta(metaSealedKeyring)
		if err == nil {
			sealed = v
			return nil
		}
		if !errors.Is(err, directory.ErrMetaNotFound) {
			return err
		}
		if fresh && !regenerate {
			if err := requireEmpty(tx); err != nil {
				return err
			}
		}
		sealed = mine
		return tx.SetMeta(metaSealedKeyring, mine)
	})
	if err != nil {
		return nil, err
	}
	keys, err := tokens.OpenSealedKeyring(sealed, kek)
	if errors.Is(err, tokens.ErrSealedKeyring) {
		return nil, fmt.Errorf("%w (is --keyring-kek the file the other nodes use?)", err)
	}
	return keys, err
}

// errKeyringLost is returned when a directory with entries has no token
// signing keys: making new ones would invalidate every token.
var errKeyringLost = errors.New("the directory exists but its token signing keys are missing")

// requireEmpty fails with errKeyringLost unless tx's store has never been
// bootstrapped: no domain and no first start in progress (idm writes
// those meta keys; entries exist only after them).
func requireEmpty(tx directory.ReadTx) error {
	for _, k := range []string{"domain", "bootstrap.domain"} {
		v, err := tx.Meta(k)
		if errors.Is(err, directory.ErrMetaNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%w (domain %q): ldapd will not make new keys, which would silently invalidate every token issued. "+
			"Restore the keys from a backup (ldapd backup keeps them; with etcd, the meta key %q of an etcd snapshot; docs/operations.md); "+
			"if they are lost for good, start once with --keyring-regenerate "+
			"(every existing token then stops working and must be generated again)", errKeyringLost, v, metaSealedKeyring)
	}
	return nil
}

// verifyEtcd runs the etcd store's Verify (`ldapd verify --store etcd`). It
// reads at one revision, so the ldapd nodes may keep serving; it needs no
// key-encryption key.
func verifyEtcd(ctx context.Context, e *env, c *storeConfig) error {
	if c.endpoints == "" {
		return fmt.Errorf("--store etcd needs --etcd-endpoints: %w", errUsage)
	}
	store, err := c.openEtcd(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	v, ok := directory.As[directory.Verifier](store)
	if !ok {
		return errors.New("verify: the etcd store cannot verify itself")
	}
	if err := v.Verify(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "etcd %s (prefix %s): consistent\n", c.endpoints, c.prefix)
	return nil
}

// reportView logs the local view of an etcd store, if it has one, and
// registers its metrics (reg nil: --metrics is off).
func reportView(reg *metrics.Registry, log zerolog.Logger, store directory.Store) {
	vs, ok := store.(interface {
		ViewStats() (etcdstore.ViewStats, bool)
	})
	if !ok {
		return
	}
	st, ok := vs.ViewStats()
	if !ok {
		return
	}
	log.Info().Int64("revision", st.Revision).Int("keys", st.Keys).Int64("bytes", st.Bytes).Bool("disabled", st.Disabled).
		Msg("loaded the local view of the etcd store")
	if reg == nil {
		return
	}
	reg.ViewStats(func() metrics.ViewState {
		st, _ := vs.ViewStats()
		return metrics.ViewState{Revision: st.Revision, Lag: st.Lag(), StalenessSec: st.Staleness.Seconds(), Stale: st.Stale,
			Reloads: st.Reloads, Keys: st.Keys, Bytes: st.Bytes, Disabled: st.Disabled}
	})
}
