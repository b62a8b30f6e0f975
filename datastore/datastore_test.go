package datastore_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
)

// TestPlaintextEndpoints: which etcd endpoints count as plaintext; Check
// refuses them with a *ConfigError naming the endpoint and the flag, unless
// AllowPlaintext.
func TestPlaintextEndpoints(t *testing.T) {
	for _, tc := range []struct {
		endpoints string
		tls       bool // --etcd-ca given
		plain     string
	}{
		{"https://etcd1:2379,https://etcd2:2379", false, ""},
		{"http://127.0.0.1:2379", false, "http://127.0.0.1:2379"},
		{"http://[::1]:2379", true, "http://[::1]:2379"}, // the scheme wins over --etcd-ca, as in clientv3
		{"https://a:2379, http://b:2379", false, "http://b:2379"},
		{"10.0.0.5:2379", false, "10.0.0.5:2379"},
		{"10.0.0.5:2379", true, ""},
		{"unix:///run/etcd.sock", true, "unix:///run/etcd.sock"},
		{"unix:etcd.sock", false, "unix:etcd.sock"},
		{"unixs:///run/etcd.sock", false, ""},
	} {
		c := datastore.Config{Kind: datastore.Etcd, Endpoints: tc.endpoints, KEK: "k"}
		if tc.tls {
			c.CA = "ca.pem"
		}
		if got := strings.Join(c.PlaintextEndpoints(), ","); got != tc.plain {
			t.Errorf("%q (tls %v): plaintext %q, want %q", tc.endpoints, tc.tls, got, tc.plain)
		}
		err := c.Check()
		if (err != nil) != (tc.plain != "") {
			t.Errorf("%q: check() = %v", tc.endpoints, err)
		}
		if ce := (*datastore.ConfigError)(nil); err != nil && !errors.As(err, &ce) {
			t.Errorf("%q: check() = %T, want *ConfigError", tc.endpoints, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "--etcd-allow-plaintext") || !strings.Contains(err.Error(), tc.plain)) {
			t.Errorf("%q: refusal %q does not name the endpoint and the flag", tc.endpoints, err)
		}
		c.AllowPlaintext = true
		if err := c.Check(); err != nil {
			t.Errorf("%q with --etcd-allow-plaintext: %v", tc.endpoints, err)
		}
	}
}

// A deleted DATA/keys/tokens.key is not silently replaced: new keys would
// invalidate every token. Only a directory never started, or
// --keyring-regenerate, gets new keys.
func TestOpenBoltKeyringKept(t *testing.T) {
	data := t.TempDir()
	store, _, err := datastore.OpenBolt(data, boltstore.Options{Timeout: time.Second}, false)
	if err != nil {
		t.Fatalf("first open of an empty directory: %v", err)
	}
	if err := store.Update(context.Background(), func(tx directory.WriteTx) error {
		return tx.SetMeta("domain", []byte("idm.example.com"))
	}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if err := os.Remove(datastore.KeysPath(data)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := datastore.OpenBolt(data, boltstore.Options{Timeout: time.Second}, false); !errors.Is(err, datastore.ErrKeyringLost) || !strings.Contains(err.Error(), "--keyring-regenerate") {
		t.Fatalf("open with the keys gone: %v, want datastore.ErrKeyringLost naming --keyring-regenerate", err)
	}
	if _, err := os.Stat(datastore.KeysPath(data)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused open wrote keys: %v", err)
	}
	store, keys, err := datastore.OpenBolt(data, boltstore.Options{Timeout: time.Second}, true)
	if err != nil || keys == nil {
		t.Fatalf("open with --keyring-regenerate: %v", err)
	}
	store.Close()
}
