// Package datastore opens the directory store an ldapd command is
// configured with, together with the token signing keyring that goes with
// it: the embedded bbolt file of a data directory, or an etcd cluster
// shared by several ldapd nodes (docs/scale-out.md).
//
// # Basics
//
// A data directory holds DBPath (the bbolt database), KeysPath (the
// keyring), TLSDir (the generated CA and server certificate) and
// SocketPath (the owner-only admin socket). [Config] says which store to
// open; its fields are plain values (the command line fills them from its
// flags, environment and configuration file) and [Config.Check] refuses a
// combination that cannot work with a [*ConfigError]. [Open] returns the
// store and the keyring: for bbolt the database and DATA/keys/tokens.key;
// for etcd the cluster, with the keyring kept in it sealed with the
// key-encryption key ([SharedKeyring]). [VerifyFile] and [VerifyEtcd]
// check a store offline. [OpenOffline] opens a stopped server's store as
// an idm.Service, for the offline commands (import, export); with no
// domain given it refuses a bbolt data directory that holds no database
// ([ExistingData]), so that a mistyped --data does not become a new
// directory.
//
// # Caveats
//
// A keyring is created only for a directory never started: a directory
// that has its domain but lost its keys is refused with
// [ErrKeyringLost] unless RegenerateKeyring is set, because new keys
// silently invalidate every token issued. The bbolt file is locked by
// one process at a time; Open waits up to the given timeout for it.
// Messages name ldapd's flags (--keyring-kek, --etcd-allow-plaintext...),
// as the operator who reads them configured those.
package datastore
