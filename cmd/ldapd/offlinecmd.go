package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/internal/cli"
)

// The commands that work on a data directory, offline or through the
// running server's admin socket: their help and flags. Their bodies
// (offlinerun.go: runRecoverAccount, runImport, ...) take the parsed flags.

// offlineFlags are the flags of those commands; each registers the ones
// it takes.
type offlineFlags struct {
	data      string      // --data
	store     storeConfig // --store and the etcd flags (store.go)
	force     bool        // restore --force
	to        string      // migrate --to
	domain    string      // import --domain
	quiet     bool        // import -q
	chunk     int         // import --chunk
	maxMemory string      // import --max-memory
	out       string      // export -o
}

// offlineCmd completes c with --data (whose help is dataUsage), the store
// flags when withStore, the command's own flags and its run function,
// which gets exactly one argument, what arg names, or none if arg is "".
func offlineCmd(e *env, c *cobra.Command, dataUsage string, withStore bool, arg string, own func(*pflag.FlagSet, *offlineFlags),
	run func(context.Context, *env, []string, *offlineFlags) error) *cobra.Command {
	f := &offlineFlags{}
	fs := c.Flags()
	fs.StringVar(&f.data, "data", "./data", dataUsage+" (env LDAPD_DATA)")
	cli.BindEnv(fs, "data", "LDAPD_DATA")
	if withStore {
		fs.AddFlagSet(cli.WithEnv(storeFlags(&f.store)))
	}
	if own != nil {
		own(fs, f)
	}
	c.Args = func(_ *cobra.Command, args []string) error {
		switch {
		case arg == "" && len(args) > 0:
			return fmt.Errorf("unexpected argument %q: %w", args[0], errUsage)
		case arg != "" && len(args) != 1:
			return fmt.Errorf("want exactly one %s: %w", arg, errUsage)
		}
		return nil
	}
	c.RunE = func(c *cobra.Command, args []string) error { return run(c.Context(), e, args, f) }
	return c
}

// storeFlags is the flag set of the store flags (storeConfig.register).
func storeFlags(sc *storeConfig) *pflag.FlagSet {
	fs := pflag.NewFlagSet("store", pflag.ContinueOnError)
	sc.register(fs)
	return fs
}

func recoverAccountCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "recover-account NAME [--data DIR]",
		Short: "set and print a new password for an account (server running or not)",
		Long: `
Set a new random password for the account NAME (admin, idm_admin or any
other person or service account) and print it alone on the last line of
stdout. With the server running, it asks the server over the admin socket
DATA/ldapd.sock (owner-only); with the server stopped, it opens the data
directory itself (or, with --store etcd and the etcd flags of serve, the
etcd cluster).`,
		Example: cli.Examples(
			"ldapd recover-account admin --data ./data"),
	}, "data directory", true, "account name", nil, runRecoverAccount)
}

func importCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "import --data DIR FILE.ldif [--store etcd --etcd-endpoints URLS --keyring-kek FILE]",
		Short: "add the entries of an LDIF file to a stopped server's directory",
		Long: `
Add the entries of an LDIF file (slapcat output, content records) to the
directory of a stopped server: all of them or, on the first bad record,
none, with the record's line number (a first pass checks every record
before anything is written). Then the entries are prepared and sorted up
to 2048 at a time (--chunk lowers it), their keys kept in memory until
they take a sixty-fourth of --max-memory (more, up to a quarter, for
very large files) and then written to a temporary file in DIR, and one new database file is written from the old one and
them, which replaces the old one at the end: an import that stops before
that adds nothing. With --store etcd the entries go in transactions of a
few. The built-in entries every directory has (the base
entry, ou=people, ou=groups, ou=services, admin, idm_admin and the
built-in groups) are merged: the file's values (members, password hashes,
descriptions, entryUUID) replace this directory's, so that an export
imported into a new directory gives back the same directory. Other
entries that already exist are skipped and listed, so an import that
failed part way (etcd) can be run again. Password
hashes {SSHA}, {SSHA512}, {SHA}, {CRYPT} ($1$, $5$, $6$) and {ARGON2} are
kept; legacy ones are replaced with argon2id at the account's first bind.
memberOf is computed for the imported groups; OpenLDAP's operational
attributes (entryCSN, memberOf, pwd*, ...) are dropped, entryUUID and the
timestamps kept. With --store etcd the entries go to the etcd cluster, a
few per transaction (--etcd-max-txn-ops / 64), instead of DATA/ldapd.db.
Memory: --max-memory (default 1GiB) is the Go heap's soft limit
(GOMEMLIMIT overrides it); the first pass keeps up to 16384 prepared
entries in memory (about 0.45 KB each), more in a temporary file in DIR.
It also keeps every DN and uid of the file (about 0.5 KB per entry), and
the adding every DN's key (about 0.1 KB per entry); the data file's
mapped pages, which the kernel can reclaim, come on top of the limit:
10k people took 63 MB peak RSS, 100k people 0.16-0.18 GB, 1M people
1.1 GB.`,
		Example: cli.Examples(
			"slapcat -n 1 > people.ldif",
			"ldapd import --data ./data people.ldif",
			"ldapd import --data ./data --max-memory 256MiB people.ldif   # a small machine",
			"ldapd import --store etcd --etcd-endpoints https://etcd1:2379 --keyring-kek /etc/ldapd/kek people.ldif"),
	}, "data directory of a stopped server", true, "LDIF file", func(fs *pflag.FlagSet, f *offlineFlags) {
		fs.StringVar(&f.domain, "domain", "", "DNS domain, to create the directory if DATA holds none yet (env LDAPD_DOMAIN)")
		cli.BindEnv(fs, "domain", "LDAPD_DOMAIN")
		fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
		fs.IntVar(&f.chunk, "chunk", 0, "entries prepared and sorted at a time: at most 2048, lower for less memory (with --store etcd, entries per transaction, default a few); the prepared entries of one chunk are in memory at once")
		fs.StringVar(&f.maxMemory, "max-memory", "1GiB", "memory the import may use (KiB, MiB, GiB or bytes): the Go heap's soft limit (GOMEMLIMIT overrides it); the keys waiting in memory to be written to a temporary file take a sixty-fourth of it (up to a quarter for very large files); the data file's mapped pages come on top")
	}, runImport)
}

func exportCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "export --data DIR [-o FILE.ldif] [--store etcd --etcd-endpoints URLS --keyring-kek FILE]",
		Short: "write a stopped server's directory as LDIF",
		Long: `
Write every entry of a stopped server's directory as LDIF, parents first,
with operational attributes and password hashes (like slapcat). The file
holds password hashes: keep it private. ldapd import reads it back.`,
		Example: cli.Examples(
			"ldapd export --data ./data -o directory.ldif"),
	}, "data directory of a stopped server", true, "", func(fs *pflag.FlagSet, f *offlineFlags) {
		fs.StringVarP(&f.out, "output", "o", "-", "output `FILE` (- is standard output)")
	}, runExport)
}

func migrateCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "migrate --to etcd|bolt --data DIR --etcd-endpoints URLS --keyring-kek FILE",
		Short: "copy the directory between bbolt and etcd, either way (offline)",
		Long: `
Copy a whole directory between the embedded bbolt file (DATA/ldapd.db, with
its signing keys DATA/keys/tokens.key) and an etcd cluster (with the keys
sealed by --keyring-kek), in either direction, entry by entry through the
store interface: entries keep their DNs, attributes, entryUUIDs, password
hashes and timestamps, and API tokens keep working because the signing keys
move too. Stop every ldapd writing to the source first. The copy is
resumable: entries already in the destination are skipped, and the domain
is written last, so a destination that was only partly copied is never
served. Both stores are verified at the end.`,
		Example: cli.Examples(
			"ldapd migrate --to etcd --data ./data --etcd-endpoints https://etcd1:2379 --keyring-kek /etc/ldapd/kek",
			"ldapd migrate --to bolt --data ./restored --etcd-endpoints https://etcd1:2379 --keyring-kek /etc/ldapd/kek"),
	}, "data directory holding ldapd.db and keys/tokens.key", true, "", func(fs *pflag.FlagSet, f *offlineFlags) {
		fs.StringVar(&f.to, "to", "", "the destination: etcd (copy DATA/ldapd.db into etcd) or bolt (copy etcd into DATA/ldapd.db)")
	}, runMigrate)
}

func dbVerifyCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "verify [--data DIR] [--store etcd --etcd-endpoints URLS]",
		Short: "check the database offline; non-zero exit on any inconsistency",
		Long: `
Check the directory database offline (the server must be stopped): every
entry decodes and has its DN key and parent, no orphan keys, every index
agrees with the entries, and bbolt's page structure is sound. Exits 0 when
consistent, 1 with the problems listed otherwise.`,
		Example: cli.Examples(
			"ldapd verify --data /var/lib/ldapd"),
	}, "data directory", true, "", nil, runVerify)
}

func backupCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "backup FILE|- [--data DIR]",
		Short: "write a consistent backup archive (database and signing keys) from the running server",
		Long: `
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
Restore it with 'ldapd restore FILE --data DIR' while no server uses DIR.`,
		Example: cli.Examples(
			"ldapd backup /var/backups/ldapd-2026-01-31.backup --data /var/lib/ldapd",
			"ldapd backup - --data /var/lib/ldapd | ssh backup-host 'cat > ldapd.backup'"),
	}, "data directory of the running server", false, "archive file name (or - for standard output)", nil, runBackup)
}

func restoreCmd(e *env) *cobra.Command {
	return offlineCmd(e, &cobra.Command{
		Use:   "restore FILE --data DIR [--force]",
		Short: "restore a backup archive into a data directory (offline)",
		Long: `
Restore a backup archive made by 'ldapd backup' into DIR, offline (no
server may use DIR). The archive's checksum is checked, the database is
verified (as 'ldapd verify' does) before it replaces anything, and the
token signing keyring is restored with mode 0600. An existing database is
only replaced with --force.`,
		Example: cli.Examples(
			"ldapd restore /var/backups/ldapd-2026-01-31.tar --data /var/lib/ldapd --force"),
	}, "data directory to restore into", false, "archive file name", func(fs *pflag.FlagSet, f *offlineFlags) {
		fs.BoolVar(&f.force, "force", false, "replace an existing database and keyring in DIR")
	}, runRestore)
}
