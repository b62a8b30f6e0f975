// Package boltstore is the directory.Store backend over a single bbolt
// file: the default storage of ldapd.
//
// # Basics
//
// [Open] returns a directory.Store. View runs a bbolt read transaction and
// Update a bbolt write transaction. Updates that arrive while a commit is
// in progress share the next transaction (group commit, commit.go: one
// fsync for the lot, no timer), which runs their fns in arrival order;
// each Update is durable when it returns, and a failing or panicking fn
// changes nothing, whatever the fns batched with it do. Readers see a
// consistent snapshot and never block the writer; writers are serialized.
//
// Entries are stored once, under an id, and found by DN through the dn2id
// bucket, whose keys put the suffix first so that a subtree is a key
// prefix. Equality and presence indexes (Options.Indexes) map normalized
// values to ids. layout.go documents every bucket and key; directory/internal/entrycodec the
// entry encoding. Search answers filters from the indexes when it can and
// scans the scope otherwise, always re-checking scope and the full filter
// with Filter.Match, so an index can only make a search faster, never
// change its result.
//
// The store also has Verify (the layout invariants and bbolt's page check,
// run by the storetest suite after every test and by `ldapd verify`),
// Backup (a hot copy through tx.WriteTo) and Stats, reached by interface
// assertion on the value Open returns.
//
// # Caveats
//
// bbolt locks the file: only one process can open it, and Open fails after
// Options.Timeout while another holds it. Offline tools (verify, backup,
// restore) must run while the server is stopped, or go through it.
//
// Entries returned by a transaction are decoded copies; bbolt memory is
// valid only inside the transaction and is never handed out.
//
// A transaction, like bbolt's, is for one goroutine at a time and only
// until fn returns; later calls fail.
//
// An Update's fn may run in the goroutine of another Update (the leader of
// its batch), more than once, and a slow fn delays every Update batched
// with it. A panic in fn still reaches the caller of its Update.
//
// Do not call View or Update from inside fn. A write transaction waiting on
// a read transaction in the same goroutine deadlocks when bbolt needs to
// grow its memory map.
//
// Filters given to Search must be resolved against Options.Schema: index
// keys are values normalized by that schema's matching rules. Changing a
// matching rule without reindexing leaves stale keys that Verify reports;
// changing Options.Indexes reindexes on the next Open.
//
// A suffix is an entry none of whose ancestors is stored, not only one
// whose parent is the root: an empty store accepts dc=example,dc=com
// without a dc=com entry. Add fails with ErrNoSuchObject only when the
// parent is missing below a stored ancestor (the matched DN). Keeping Adds
// inside the configured naming context is the caller's job.
//
// Rename rewrites the DN stored in every entry of the moved subtree and its
// dn2id keys, so its cost grows with the subtree. It does not rewrite DN
// values (member, manager, ...) that name moved entries: that is the
// caller's job.
package boltstore
