// Package daemon runs one ldapd server process from a plain [Config]: it
// opens the data directory and the store (package datastore), builds the
// directory service (idm), the LDAP front end (ldapserver, gateway) and
// the admin socket's backup handler, serves LDAPS, LDAP with StartTLS, the
// admin socket, the metrics and health endpoints and the web console,
// reloads the TLS key pair on SIGHUP, and drains and shuts down when its
// context ends.
//
// # Basics
//
// [Run] is the whole of `ldapd serve` once its flags are parsed: cmd/ldapd
// turns flags, environment and configuration file into a Config and calls
// it. It returns when the context ends (after the drain period and at
// most 10 seconds for operations in flight) or a listener fails. Errors
// in the configuration wrap [ErrUsage] (exit status 2).
//
// Logs go to the writer Run is given, through a buffer (logBuffer)
// flushed every 100 ms, at once for a warning or an error, and when Run
// returns: one write(2) per access line cost more than the rest of an
// operation's logging.
//
// # Caveats
//
// The data directory is made 0700 (or tightened to it, with a warning):
// it holds the admin socket, which serves the root identity, and the keys.
// On Linux the admin socket also checks each peer with SO_PEERCRED (only
// the server's uid and root); elsewhere the directory's mode is the only
// guard. A world-writable configuration file is refused
// ([CheckConfigFileMode]), before the command line reads it.
package daemon
