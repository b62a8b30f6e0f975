// Package backup makes consistent archives of an ldapd data directory,
// streams them from a running server to the operator, reads them back and
// restores them.
//
// # Basics
//
// An archive (archive.go) holds a hot copy of the bbolt database, the
// token signing keyring and the generated TLS material of DATA/tls, with a
// SHA-256 over the whole: [Write] produces one, [Read] checks one and says
// where its parts are. A running server serves it with [Handler] on its
// owner-only admin socket, as a search of [DN] answered in chunks; the
// client side, [Stream] and [ToFile], reads the chunks as they arrive and
// writes the file as the operator. [Restore] puts an archive back into a
// stopped server's data directory: every file is staged next to its final
// name with the owner and mode it must end with, the database is verified,
// and only then is anything renamed into place, the database last.
//
// Who may take a backup is the policy's to say (acl.MayBackup, asked
// through idm.Service.MayBackup): only the admin socket's root identity.
//
// # Caveats
//
// An archive holds the signing keys (it can mint a token for any account)
// and the TLS server key: it is as secret as DATA/keys, and ToFile creates
// it with mode 0600. Restore must run while no server uses the data
// directory (bbolt's lock is checked), as root or as the directory's
// owner: a file the service user cannot read would stop the service.
package backup
