// Package directory is the contract at the centre of ldapd: distinguished
// names, the schema, entries, search filters and the Store interface that
// every storage backend implements.
//
// # Basics
//
// DNs, filters and attribute descriptions are parsed once, at the edge, into
// the typed values of this package. A [DN] carries its normalized form, so
// comparing two DNs or using one as an index key never re-parses a string.
// A [Filter] is an AST resolved against a [Schema]; [Filter.Match] evaluates
// it against an [Entry] with the matching rules the schema names.
//
// A [Store] runs transactions as closures, in the style of bbolt:
// [Store.View] for reads and [Store.Update] for writes. The closure given to
// Update may run more than once (a backend that retries on conflict, such as
// one over etcd, calls it again), so it must not have side effects other
// than through the transaction: no logging of success, no channel sends.
// Act on the outcome after Update returns.
//
// Errors are sentinels ([ErrNoSuchObject], [ErrEntryAlreadyExists], ...),
// possibly wrapped in an [*Error] carrying a matched DN and a message.
// Callers test them with errors.Is; the LDAP front end maps them to result
// codes in one place.
//
// # Caveats
//
// Entries handed out by a transaction are copies owned by the caller; a
// backend must never return memory that is valid only inside the
// transaction (bbolt's mmap). Entries passed to a WriteTx are not retained.
//
// This package imports nothing else from ldapd and no storage engine.
package directory
