// Package clustertest holds the scale-out test of issue #7: three etcd
// members and two ldapd nodes on loopback, all in the test process (etcd's
// embedded server; each node its own etcd client, etcdstore, idm.Service
// and LDAP listener, wired as `ldapd serve --store etcd` wires them).
//
// The test is behind the build tag "cluster" so that `make test` stays as
// fast as before; `make cluster-test` runs it, and CI runs that target:
//
//	go test -tags cluster -count=1 -v ./internal/clustertest/
//
// It logs the figures docs/scale-out.md reports (revocation propagation,
// throughput of one node and of two, failover).
package clustertest
