package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

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

// BackupDN is the search base of ldapd's backup stream, served only on
// the owner-only admin socket DATA/ldapd.sock and only to its root
// identity: a base-scope search of it answers with the archive (archive.go)
// in order, in the "chunk" attribute of one search result entry per
// backupChunk bytes, and a success result once the last byte is sent.
// Anything else is an error result, and the client must then discard what
// it got.
//
// Why a stream rather than a file the server writes: under the shipped
// systemd unit the server runs as its own user with a read-only file
// system and a private /tmp, so a file it writes is either impossible or
// invisible to the operator. The client (ldapd backup) writes the file as
// the operator, where the operator asked, like etcdctl snapshot save. A
// search carries the stream because LDAP clients already read search
// entries one by one as they arrive, so neither side holds the whole
// archive in memory.
const BackupDN = "cn=ldapd-backup"

// backupChunk is the archive bytes per search result entry.
const backupChunk = 256 << 10

// backupHandler serves the BackupDN search on the admin socket and passes
// every other operation to next.
type backupHandler struct {
	next  ldapserver.Handler
	store directory.Store
	keys  *tokens.Keyring
	data  string // the data directory, whose tls/ files the archive carries
	log   zerolog.Logger
}

func (h *backupHandler) ServeLDAP(w ldapserver.ResponseWriter, r *ldapserver.Request) {
	op, ok := r.Op.(*ldapserver.SearchRequest)
	if !ok || !strings.EqualFold(op.Base.String(), BackupDN) {
		h.next.ServeLDAP(w, r)
		return
	}
	fail := func(code int, msg string) { w.WriteResult(ldapserver.Result{Code: code, Message: msg}) }
	if id, ok := r.Bound.(idm.Identity); !ok || id.Kind != acl.Root {
		fail(wire.ResultInsufficientAccessRights, "backup is only served to the admin socket's root identity")
		return
	}
	hc, ok := directory.As[hotCopier](h.store)
	if !ok {
		fail(wire.ResultUnwillingToPerform, "this store cannot make hot copies")
		return
	}
	files, err := dataFiles(h.data)
	if err != nil {
		h.log.Error().Err(err).Msg("backup failed")
		fail(wire.ResultOther, err.Error())
		return
	}
	start := time.Now()
	cw := &chunkWriter{w: w, dn: op.Base}
	err = writeArchive(cw, hc, h.keys, files)
	if err == nil {
		err = cw.flush()
	}
	if err != nil {
		h.log.Error().Err(err).Int64("bytes_sent", cw.sent).Msg("backup failed")
		fail(wire.ResultOther, "backup: "+err.Error())
		return
	}
	h.log.Info().Int64("bytes", cw.sent).Int("files", len(files)).Dur("duration", time.Since(start)).Msg("backup streamed to the admin socket")
	w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess})
}

// chunkWriter sends what is written to it as search result entries of
// backupChunk bytes.
type chunkWriter struct {
	w    ldapserver.ResponseWriter
	dn   directory.DN
	buf  []byte
	sent int64
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), backupChunk-len(c.buf))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == backupChunk {
			if err := c.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	e := &directory.Entry{DN: c.dn, Attrs: []directory.Attr{{Name: "chunk", Values: []string{string(c.buf)}}}}
	if err := c.w.WriteEntry(e); err != nil {
		return fmt.Errorf("send to the client: %w", err)
	}
	c.sent += int64(len(c.buf))
	c.buf = c.buf[:0]
	return nil
}

func runBackup(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one archive file name (or - for standard output): %w", errUsage)
	}
	sock := socketPath(o.data)
	if nc, err := net.DialTimeout("unix", sock, 2*time.Second); err != nil {
		return fmt.Errorf("no server on %s (backup needs the running server; a stopped data directory can be copied as files): %w", sock, err)
	} else {
		nc.Close()
	}
	if args[0] == "-" {
		if _, err := streamBackup(ctx, sock, e.stdout); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "backup written to standard output (it holds the token signing keys: keep it secret)")
		return nil
	}
	path, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	n, err := backupToFile(ctx, sock, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "backup written to %s (%d bytes, checked; mode 0600: it holds the token signing keys)\n", path, n)
	return nil
}

// backupToFile streams the archive into path, which must not exist,
// syncs it and checks it as restore would; on failure nothing is left.
func backupToFile(ctx context.Context, sock, path string) (n int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, archiveMode)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("backup: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if n, err = streamBackup(ctx, sock, f); err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	if _, err := readArchive(f); err != nil {
		return n, fmt.Errorf("backup: the archive received does not check: %w", err)
	}
	return n, nil
}

// streamBackup asks the server on the admin socket sock for the archive
// and copies it to w as it arrives.
func streamBackup(ctx context.Context, sock string, w io.Writer) (int64, error) {
	conn, err := ldap.DialURL("ldapi://" + url.PathEscape(sock))
	if err != nil {
		return 0, fmt.Errorf("connect to %s: %w", sock, err)
	}
	defer conn.Close()
	req := ldap.NewSearchRequest(BackupDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"chunk"}, nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := conn.SearchAsync(ctx, req, 4)
	var n int64
	for res.Next() {
		for _, b := range res.Entry().GetRawAttributeValues("chunk") {
			m, err := w.Write(b)
			n += int64(m)
			if err != nil {
				return n, fmt.Errorf("backup: write: %w", err)
			}
		}
	}
	if err := res.Err(); err != nil {
		return n, fmt.Errorf("backup from %s: %w", sock, err)
	}
	return n, nil
}

func runRestore(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one archive file name: %w", errUsage)
	}
	return restore(ctx, args[0], o.data, o.force)
}

func restore(ctx context.Context, archivePath, data string, force bool) error {
	f, err := os.Open(archivePath)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	a, err := readArchive(f)
	if err != nil {
		return fmt.Errorf("restore %s: %w", archivePath, err)
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
	// Every restored file is staged next to its final name with the owner
	// and mode it must end with, then renamed into place: nothing is
	// replaced unless every file could be given its owner.
	kb, err := a.keys.MarshalBinary()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var staged []*stagedFile
	defer func() {
		for _, s := range staged {
			os.Remove(s.tmp)
		}
	}()
	stage := func(final string, mode os.FileMode, keepMode bool, src io.Reader) (*stagedFile, error) {
		s, err := stageFile(data, final, mode, keepMode, src)
		if s != nil {
			staged = append(staged, s)
		}
		return s, err
	}
	db, err := stage(dbPath(data), 0o600, true, io.NewSectionReader(f, a.dbOff, a.dbLen))
	if err != nil {
		return err
	}
	if err := verifyFile(ctx, db.tmp); err != nil {
		return fmt.Errorf("restore: the archived database does not verify: %w", err)
	}
	if _, err := stage(keysPath(data), 0o600, false, bytes.NewReader(kb)); err != nil {
		return err
	}
	for _, af := range a.files {
		if _, err := stage(filepath.Join(data, filepath.FromSlash(af.Name)), af.Mode, false, bytes.NewReader(af.Data)); err != nil {
			return err
		}
	}
	// The database last: until it is in place, a server would refuse the
	// directory (new keys without a database) or see the old one.
	for i := len(staged) - 1; i >= 0; i-- {
		s := staged[i]
		if err := os.Rename(s.tmp, s.final); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		s.tmp = ""
		if err := syncDir(filepath.Dir(s.final)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// stagedFile is a restored file written next to its final name.
type stagedFile struct{ tmp, final string }

// stageFile writes src to a temporary file in final's directory (made
// 0700 if missing, owned like data) with the owner of the file it will
// replace, or of the data directory if there is none, and with mode: the
// replaced file's if keepMode, else mode. If that owner cannot be given
// (restore run by another user than root or the owner), it refuses,
// saying so: a file the service user cannot read would stop the service
// at its next start.
func stageFile(data, final string, mode os.FileMode, keepMode bool, src io.Reader) (*stagedFile, error) {
	dfi, err := os.Stat(data)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	owner, ownerOf := dfi, data
	if fi, err := os.Stat(final); err == nil {
		owner, ownerOf = fi, final
		if keepMode {
			mode = fi.Mode().Perm()
		}
	}
	dir := filepath.Dir(final)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		if err := chownLike(dir, dfi); err != nil {
			return nil, fmt.Errorf("restore: cannot give %s to the owner of %s: %w; run ldapd restore as root or as that user", dir, data, err)
		}
	}
	tmp, err := os.CreateTemp(dir, ".restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	s := &stagedFile{tmp: tmp.Name(), final: final}
	_, err = io.Copy(tmp, src)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s, fmt.Errorf("restore: %w", err)
	}
	if err := chownLike(s.tmp, owner); err != nil {
		return s, fmt.Errorf("restore: cannot give %s the owner of %s (%s): %w; nothing was replaced. Run ldapd restore as root or as that user",
			final, ownerOf, ownerString(owner), err)
	}
	return s, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func runVerify(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", args[0], errUsage)
	}
	if o.store.kind == storeEtcd {
		return verifyEtcd(ctx, e, &o.store)
	}
	if _, err := os.Stat(dbPath(o.data)); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := verifyFile(ctx, dbPath(o.data)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: consistent\n", dbPath(o.data))
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
