package datastore

import (
	"fmt"
	"strings"
	"time"

	"github.com/ldapd/ldapd/directory/etcdstore"
)

// Store kinds.
const (
	Bolt = "bolt" // DATA/ldapd.db, the default
	Etcd = "etcd" // an etcd cluster (docs/scale-out.md)
)

// Config selects the directory store and how to reach it. The zero value
// is the bbolt file of the data directory.
type Config struct {
	Kind        string // Bolt ("" too) or Etcd
	Endpoints   string // comma-separated etcd client URLs
	CA          string // PEM CA file of the etcd cluster
	Cert, Key   string // client certificate and key files for etcd
	Prefix      string // key prefix of this directory in etcd
	KEK         string // file of the key-encryption key sealing the keyring in etcd
	MaxTxnOps   int    // the cluster's --max-txn-ops
	MaxTxnBytes int    // the cluster's --max-request-bytes
	// AllowPlaintext accepts etcd endpoints without TLS
	// (PlaintextEndpoints), which are refused otherwise.
	AllowPlaintext bool
	// RegenerateKeyring makes a new keyring even though the directory has
	// entries (Open refuses otherwise, with ErrKeyringLost).
	RegenerateKeyring bool
	// The local view of a serving node (etcdstore.Options); other commands
	// leave Consistency empty and read etcd directly.
	Consistency  string        // view, linearizable or direct
	MaxStaleness time.Duration // the view's staleness bound
	ViewMaxBytes int64         // the view's memory cap, 0: none
}

// ConfigError is a Config that cannot work: a mistake of the operator's,
// to be fixed in the configuration rather than retried.
// Other packages that take a Config (storemigrate) report theirs with it
// too.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

func configErrorf(format string, a ...any) error { return &ConfigError{Msg: fmt.Sprintf(format, a...)} }

// Check refuses a configuration that cannot work, with a *ConfigError.
func (c Config) Check() error {
	switch c.Kind {
	case Bolt, "":
		return nil
	case Etcd:
	default:
		return configErrorf("invalid --store %q: want bolt or etcd", c.Kind)
	}
	if c.Endpoints == "" {
		return configErrorf("--store etcd needs --etcd-endpoints")
	}
	if c.KEK == "" {
		return configErrorf("--store etcd needs --keyring-kek FILE (32 random bytes, e.g. openssl rand -hex 32 > kek; chmod 600 kek), the same on every node")
	}
	if (c.Cert == "") != (c.Key == "") {
		return configErrorf("--etcd-cert and --etcd-key go together")
	}
	if c.Consistency != "" {
		if _, err := etcdstore.ParseConsistency(c.Consistency); err != nil {
			return configErrorf("--etcd-consistency: %v", err)
		}
	}
	return c.checkPlaintext()
}

// EndpointList returns the comma-separated endpoints, trimmed.
func (c Config) EndpointList() []string {
	var eps []string
	for _, ep := range strings.Split(c.Endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return eps
}

// PlaintextEndpoints returns the endpoints the etcd client would reach
// without TLS: http:// and unix:// ones always, and those without a scheme
// (HOST:PORT) unless CA or Cert configures TLS, as clientv3 decides.
// Loopback endpoints are not exempt: an etcd that speaks plaintext on
// 127.0.0.1 rarely checks clients either, and every password hash is in
// it.
func (c Config) PlaintextEndpoints() []string {
	tlsConfigured := c.CA != "" || c.Cert != ""
	var plain []string
	for _, ep := range c.EndpointList() {
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

// checkPlaintext refuses plaintext endpoints unless AllowPlaintext.
func (c Config) checkPlaintext() error {
	if plain := c.PlaintextEndpoints(); len(plain) > 0 && !c.AllowPlaintext {
		return configErrorf("etcd endpoint %s is not TLS: etcd holds every password hash and the sealed token keys, so ldapd refuses it. "+
			"Use https:// endpoints (with --etcd-ca, and --etcd-cert/--etcd-key if etcd checks clients), or accept the risk with --etcd-allow-plaintext "+
			"(env LDAPD_ETCD_ALLOW_PLAINTEXT=true)", strings.Join(plain, ","))
	}
	return nil
}
