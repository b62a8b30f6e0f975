package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"github.com/ldapd/ldapd/tokens"
)

// BackupOID is ldapd's backup extended operation, served only on the
// owner-only admin socket DATA/ldapd.sock and only to its root identity.
// Request value: OCTET STRING, the absolute path of a file that must not
// exist; the server writes the archive there itself (mode 0600) and
// answers success once it is synced.
//
// Why a path rather than streaming the bytes back: the socket is local and
// owner-only, so the client is the server's own user on the same machine;
// writing the file directly needs no message-size exception for a large
// response and keeps the archive's secret keyring out of any buffer but
// the file's.
const BackupOID = wire.BackupOID

// backupHandler serves BackupOID on the admin socket and passes every
// other operation to next.
type backupHandler struct {
	next  ldapserver.Handler
	store directory.Store
	keys  *tokens.Keyring
	log   zerolog.Logger
}

func (h *backupHandler) ServeLDAP(w ldapserver.ResponseWriter, r *ldapserver.Request) {
	op, ok := r.Op.(*ldapserver.ExtendedRequest)
	if !ok || op.OID != BackupOID {
		h.next.ServeLDAP(w, r)
		return
	}
	fail := func(code int, msg string) { w.WriteResult(ldapserver.Result{Code: code, Message: msg}) }
	if id, ok := r.Bound.(idm.Identity); !ok || id.Kind != acl.Root {
		fail(wire.ResultInsufficientAccessRights, "backup is only served to the admin socket's root identity")
		return
	}
	var path string
	p, err := ber.DecodePacketErr(op.Value)
	if err == nil && p.ClassType == ber.ClassUniversal && p.Tag == ber.TagOctetString {
		path = p.Data.String()
	}
	if !filepath.IsAbs(path) {
		fail(wire.ResultProtocolError, "backup request value: want an OCTET STRING holding an absolute path")
		return
	}
	hc, ok := directory.As[hotCopier](h.store)
	if !ok {
		fail(wire.ResultUnwillingToPerform, "this store cannot make hot copies")
		return
	}
	start := time.Now()
	if err := writeArchiveFile(path, hc, h.keys); err != nil {
		h.log.Error().Err(err).Str("path", path).Msg("backup failed")
		fail(wire.ResultOther, err.Error())
		return
	}
	h.log.Info().Str("path", path).Dur("duration", time.Since(start)).Msg("backup written")
	w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess})
}

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", envDefault(e, "LDAPD_DATA", "./data"), "data directory of the running server (env LDAPD_DATA)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd backup FILE [--data DIR]

Ask the running server, over its owner-only admin socket DATA/ldapd.sock,
to write a consistent backup archive to FILE (which must not exist): a hot
copy of the directory database plus the token signing keyring. FILE is
created with mode 0600 because the keyring can mint tokens for every
account: keep the archive as secret as DATA/keys. Restore it with
'ldapd restore FILE --data DIR' while no server uses DIR.

Examples:
  ldapd backup /var/backups/ldapd-2026-01-31.tar --data /var/lib/ldapd

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
	path, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	sock := socketPath(*data)
	if nc, err := net.DialTimeout("unix", sock, 2*time.Second); err != nil {
		return fmt.Errorf("no server on %s (backup needs the running server; a stopped data directory can be copied as files): %w", sock, err)
	} else {
		nc.Close()
	}
	conn, err := ldap.DialURL("ldapi://" + url.PathEscape(sock))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", sock, err)
	}
	defer conn.Close()
	value := ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, path, "path")
	if _, err := conn.Extended(ldap.NewExtendedRequest(BackupOID, value)); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	fmt.Fprintf(e.stderr, "backup written to %s (mode 0600: it holds the token signing keys)\n", path)
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
	return restore(ctx, args[0], *data, *force)
}

func restore(ctx context.Context, archive, data string, force bool) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	keys, off, n, err := readArchive(f)
	if err != nil {
		return fmt.Errorf("restore %s: %w", archive, err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(dbPath(data)); err == nil {
		if !force {
			return fmt.Errorf("%s exists: restore with --force to replace it: %w", dbPath(data), errUsage)
		}
		// Fail if a server holds it: bbolt's lock.
		s, err := boltstore.Open(dbPath(data), boltstore.Options{Timeout: time.Second})
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		s.Close()
	}
	tmp, err := os.CreateTemp(data, ".restore-*.db")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, io.NewSectionReader(f, off, n))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := verifyFile(ctx, tmp.Name()); err != nil {
		return fmt.Errorf("restore: the archived database does not verify: %w", err)
	}
	if err := tokens.SaveKeyring(keysPath(data), keys); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp.Name(), dbPath(data)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return syncDir(data)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
		return verifyEtcd(ctx, e, &sc)
	}
	if _, err := os.Stat(dbPath(*data)); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := verifyFile(ctx, dbPath(*data)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: consistent\n", dbPath(*data))
	return nil
}

// verifyFile opens a database file and runs boltstore's Verify on it.
func verifyFile(ctx context.Context, path string) error {
	s, err := boltstore.Open(path, boltstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer s.Close()
	v, ok := directory.As[directory.Verifier](s)
	if !ok {
		return errors.New("verify: the store cannot verify itself")
	}
	return v.Verify(ctx)
}
