package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/datastore"
)

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", envDefault(e, "LDAPD_DATA", "./data"), "data directory of the running server (env LDAPD_DATA)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd backup FILE|- [--data DIR]

Ask the running server, over its owner-only admin socket DATA/ldapd.sock,
for a consistent backup archive and write it to FILE (which must not
exist), or to standard output with -. The archive is a hot copy of the
directory database, the token signing keyring and the generated TLS
material (DATA/tls: ca.pem, server.pem, server-key.pem), so a restored
server accepts the old tokens and serves the certificate old clients
trust. The server streams it; this command writes the file itself, as
you, wherever you can write (the server's own sandbox does not matter).
FILE is created with mode 0600, and checked, because the keyring can mint
tokens for every account: keep the archive as secret as DATA/keys.
Restore it with 'ldapd restore FILE --data DIR' while no server uses DIR.

Examples:
  ldapd backup /var/backups/ldapd-2026-01-31.backup --data /var/lib/ldapd
  ldapd backup - --data /var/lib/ldapd | ssh backup-host 'cat > ldapd.backup'

Flags:
`)
		fs.PrintDefaults()
	}
	args, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if len(args) != 1 {
		return fmt.Errorf("want exactly one archive file name (or - for standard output): %w", errUsage)
	}
	sock := socketPath(*data)
	if nc, err := net.DialTimeout("unix", sock, 2*time.Second); err != nil {
		return fmt.Errorf("no server on %s (backup needs the running server; a stopped data directory can be copied as files): %w", sock, err)
	} else {
		nc.Close()
	}
	if args[0] == "-" {
		if _, err := backup.Stream(ctx, sock, e.stdout); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "backup written to standard output (it holds the token signing keys: keep it secret)")
		return nil
	}
	path, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	n, err := backup.ToFile(ctx, sock, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "backup written to %s (%d bytes, checked; mode 0600: it holds the token signing keys)\n", path, n)
	return nil
}

func runRestore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", envDefault(e, "LDAPD_DATA", "./data"), "data directory to restore into (env LDAPD_DATA)")
	force := fs.Bool("force", false, "replace an existing database and keyring in DIR")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd restore FILE --data DIR [--force]

Restore a backup archive made by 'ldapd backup' into DIR, offline (no
server may use DIR). The archive's checksum is checked, the database is
verified (as 'ldapd verify' does) before it replaces anything, and the
token signing keyring is restored with mode 0600. An existing database is
only replaced with --force.

Examples:
  ldapd restore /var/backups/ldapd-2026-01-31.tar --data /var/lib/ldapd --force

Flags:
`)
		fs.PrintDefaults()
	}
	args, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if len(args) != 1 {
		return fmt.Errorf("want exactly one archive file name: %w", errUsage)
	}
	err = backup.Restore(ctx, args[0], *data, *force)
	if errors.Is(err, backup.ErrDatabaseExists) {
		return fmt.Errorf("%w: restore with --force to replace it: %w", err, errUsage)
	}
	return err
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", envDefault(e, "LDAPD_DATA", "./data"), "data directory (env LDAPD_DATA)")
	var sc storeConfig // --store etcd: verify the etcd store instead (store.go)
	sc.register(fs, e)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd verify [--data DIR] [--store etcd --etcd-endpoints URLS]

Check the directory database offline (the server must be stopped): every
entry decodes and has its DN key and parent, no orphan keys, every index
agrees with the entries, and bbolt's page structure is sound. Exits 0 when
consistent, 1 with the problems listed otherwise.

Examples:
  ldapd verify --data /var/lib/ldapd

Flags:
`)
		fs.PrintDefaults()
	}
	args, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if len(args) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", args[0], errUsage)
	}
	if sc.kind == storeEtcd {
		if err := datastore.VerifyEtcd(ctx, sc.options()); err != nil {
			return usageIf(err)
		}
		fmt.Fprintf(e.stdout, "etcd %s (prefix %s): consistent\n", sc.endpoints, sc.prefix)
		return nil
	}
	if _, err := os.Stat(dbPath(*data)); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := datastore.VerifyFile(ctx, dbPath(*data)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: consistent\n", dbPath(*data))
	return nil
}
