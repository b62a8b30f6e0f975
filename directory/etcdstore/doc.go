// Package etcdstore is a directory.Store over an etcd cluster, so that
// several stateless ldapd nodes can serve one directory (docs/scale-out.md).
//
// # Basics
//
// [Open] takes a go.etcd.io/etcd/client/v3 client and returns a
// directory.Store whose keys all live under Options.Prefix. layout.go
// documents every key: entries by random id, a dn key per entry (suffix
// first, so a subtree is a key prefix) and boltstore's equality and
// presence index keys, with an overflow key for attributes with many
// values (index.go), so that a write of one entry never needs more than
// etcd's default 128 operations per transaction.
//
// View reads at one etcd revision, fixed by its first read, which is
// linearizable: a View begun after an Update returned, on any node, sees
// it. Update runs fn against an overlay that records its writes and what
// it read, then commits in one etcd Txn guarded by compares: every key read
// still has the ModRevision it had (or is still absent), and every range
// read (a search, a subtree, a children check) holds no key written since
// the snapshot. A failed guard means a conflict: nothing was written and fn
// runs again on a fresh snapshot, as with etcd's own STM. When there are
// more reads than a Txn may hold compares, one compare on the commit fence
// (a key every commit writes) replaces them: nothing committed since the
// snapshot. Either way Updates are serializable, and only Updates that
// touched the same keys or ranges conflict.
//
// The store also has Verify (the layout invariants, as boltstore's),
// reached by interface assertion.
//
// # Caveats
//
// fn really may run more than once: it must act only through the tx.
//
// An Update whose writes need more operations or bytes than one etcd Txn
// allows (Options.MaxTxnOps, MaxTxnBytes, which must match the cluster's
// --max-txn-ops and --max-request-bytes) fails with ErrTxnTooLarge
// (adminLimitExceeded) and writes nothing. One entry always fits; many
// entries in one Update (a first start's bootstrap, a Rename of a large
// subtree, a group change that rewrites many members' memberOf) may not.
//
// An Update whose commit fails for a reason other than a conflict (the
// cluster lost quorum, the deadline passed) returns an error wrapping
// directory.ErrBusy without running fn again: the Txn may or may not have
// been applied, and only the caller can decide to retry.
//
// Every read is a round trip to etcd: a Get by DN is two (dn key, entry),
// and each search candidate one more (a key read again in the same
// transaction is not fetched again: the revision is fixed). A one-level search reads the dn keys
// of the base's whole subtree. Reads after the first in a transaction are
// served serializably by whichever member the client reaches, at the fixed
// revision.
//
// Auto-compaction must keep more history than the longest transaction
// lasts: a read at a compacted revision fails (ErrBusy).
//
// Entry values are not encrypted: they hold password hashes, so the etcd
// cluster must be reached over TLS with client certificates and its data
// directory protected like ldapd's own. The token signing keys are never
// stored here in the clear (see cmd/ldapd).
package etcdstore
