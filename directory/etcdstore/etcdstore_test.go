package etcdstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
	"github.com/ldapd/ldapd/directory/storetest"
)

// suiteOps is the --max-txn-ops of the conformance suite's cluster: the
// suite seeds a dozen entries in one Update (about 250 operations), which
// a cluster with etcd's default 128 refuses (see TestLimits).
const suiteOps = 4096

var prefixes atomic.Int64

// newStoreOn returns a store under a fresh prefix of cluster c, so that
// every subtest gets an empty store without a new etcd.
func newStoreOn(tb testing.TB, c *etcdtest.Cluster, opts etcdstore.Options) directory.Store {
	tb.Helper()
	opts.Prefix = fmt.Sprintf("/test/%d/", prefixes.Add(1))
	s, err := etcdstore.Open(context.Background(), c.Client(tb), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{MaxTxnOps: suiteOps, MaxRequestBytes: 8 << 20, NoFsync: true})
	storetest.Run(t, func(t *testing.T) directory.Store {
		return newStoreOn(t, c, etcdstore.Options{MaxTxnOps: suiteOps, MaxTxnBytes: 8 << 20})
	})
}
