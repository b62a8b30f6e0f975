package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// etcdNode is a one-member etcd cluster for ldapd's etcd store (1024
// operations per transaction, no fsync), with a temporary directory Dir
// holding the key-encryption key file KEK.
type etcdNode struct {
	*etcdtest.Cluster
	Dir, KEK string
}

// startEtcd starts an etcdNode; t's cleanup stops it.
func startEtcd(t *testing.T) etcdNode {
	t.Helper()
	c := etcdtest.Start(t, 1, etcdtest.Options{MaxTxnOps: 1024, NoFsync: true})
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	if err := os.WriteFile(kek, []byte(strings.Repeat("6b", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	return etcdNode{c, dir, kek}
}

// endpoints are the cluster's client URLs as --etcd-endpoints takes them.
func (n etcdNode) endpoints() string { return strings.Join(n.Endpoints(), ",") }

// flags are the store flags that point ldapd at n: its endpoints (plaintext
// on loopback, allowed), its key-encryption key and its transaction size.
func (n etcdNode) flags() []string {
	return []string{"--store", "etcd", "--etcd-endpoints", n.endpoints(), "--etcd-allow-plaintext", "--keyring-kek", n.KEK,
		"--etcd-max-txn-ops", "1024"}
}
