package datastore

import "path/filepath"

// Files inside a data directory.

// DBPath is the bbolt database of the data directory data.
func DBPath(data string) string { return filepath.Join(data, "ldapd.db") }

// KeysPath is the token signing keyring of a bbolt data directory.
func KeysPath(data string) string { return filepath.Join(data, "keys", "tokens.key") }

// TLSDir holds the generated CA and server key pair.
func TLSDir(data string) string { return filepath.Join(data, "tls") }

// SocketPath is the owner-only admin socket of a running server.
func SocketPath(data string) string { return filepath.Join(data, "ldapd.sock") }
