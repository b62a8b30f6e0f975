// Package clustertest holds the scale-out test of issues #7 and #17: three
// etcd members, each a child process (etcdtest's member command: etcd's
// embedded server, so a member can be SIGKILLed), and ldapd nodes on
// loopback.
//
//   - Nodes A and B (and the bbolt and linearizable nodes of the CPU
//     figures) run in the test process, wired as `ldapd serve` wires them
//     (each its own etcd client, etcdstore with its local view,
//     idm.Service and LDAP listener), so that the test process's CPU is
//     theirs and their views can be inspected.
//   - Nodes that must crash or be cut off (P, Q, R of the failover, S of
//     the partition, and both nodes of TestViewAtScale) are `ldapd serve`
//     processes of the real binary, built once per test with go build -o;
//     the test reads their /readyz and /metrics.
//
// The test is behind the build tag "cluster" so that `make test` stays as
// fast as before; `make cluster-test` runs it, and CI runs that target:
//
//	go test -tags cluster -count=1 -v ./internal/clustertest/
//
// It logs the figures docs/scale-out.md reports (lines starting FIGURE).
// TestViewAtScale (a node started over 100,000 entries) runs only when
// LDAPD_CLUSTER_BIG is set.
package clustertest
