// Package idm is ldapd's identity core: it authenticates binds (passwords
// and API tokens), runs searches and writes as a subject under the access
// policy, keeps the directory's invariants (schema, operational attributes,
// memberOf, referential integrity, unique account names) and issues API
// tokens. The LDAP front end translates protocol messages into calls on a
// [Service]; nothing here knows about BER or sockets.
//
// # Basics
//
// A successful bind yields an [Identity], which the connection keeps. Every
// later operation passes it back, and the Service re-derives the acting
// [acl.Subject] from the store at the start of the operation: the account's
// current groups, and for a token its record and expiry. A token destroyed
// or expired after the bind therefore stops working on the very next
// operation, and a group change takes effect at once.
//
// Writes run in one store transaction each, so an entry, the memberOf values
// it implies and the references to it change together or not at all.
// Work with side effects or real cost (hashing a password, signing a token)
// happens before the transaction, because Store.Update may run its closure
// more than once.
//
// # Caveats
//
// Error values are the directory package's sentinels, wrapped in
// *directory.Error with a client-facing message where one helps. Failed
// binds always return directory.ErrInvalidCredentials with the same message;
// the reason goes to the log, never to the client.
package idm
