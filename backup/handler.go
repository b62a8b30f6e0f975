package backup

import (
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"github.com/ldapd/ldapd/tokens"
)

// DN is the search base of ldapd's backup stream, served only on the
// owner-only admin socket DATA/ldapd.sock and only to its root identity: a
// base-scope search of it answers with the archive in order, in the
// "chunk" attribute of one search result entry per chunkSize bytes, and a
// success result once the last byte is sent. Anything else is an error
// result, and the client must then discard what it got.
//
// Why a stream rather than a file the server writes: under the shipped
// systemd unit the server runs as its own user with a read-only file
// system and a private /tmp, so a file it writes is either impossible or
// invisible to the operator. The client (ldapd backup) writes the file as
// the operator, where the operator asked, like etcdctl snapshot save. A
// search carries the stream because LDAP clients already read search
// entries one by one as they arrive, so neither side holds the whole
// archive in memory.
const DN = "cn=ldapd-backup"

// chunkSize is the archive bytes per search result entry.
const chunkSize = 256 << 10

// Handler serves the DN search on the admin socket and passes every other
// operation to Next.
type Handler struct {
	Next  ldapserver.Handler
	IDM   *idm.Service // asked whether the bound identity may take a backup
	Store directory.Store
	Keys  *tokens.Keyring
	Data  string // the data directory, whose tls/ files the archive carries
	Log   zerolog.Logger
}

// ServeLDAP implements ldapserver.Handler.
func (h *Handler) ServeLDAP(w ldapserver.ResponseWriter, r *ldapserver.Request) {
	op, ok := r.Op.(*ldapserver.SearchRequest)
	if !ok || !strings.EqualFold(op.Base.String(), DN) {
		h.Next.ServeLDAP(w, r)
		return
	}
	fail := func(code int, msg string) { w.WriteResult(ldapserver.Result{Code: code, Message: msg}) }
	id, ok := r.Bound.(idm.Identity)
	if !ok {
		fail(wire.ResultInsufficientAccessRights, "backup is only served to the admin socket's root identity")
		return
	}
	if err := h.IDM.MayBackup(r.Context(), id); err != nil {
		w.WriteError(err)
		return
	}
	hc, ok := directory.As[HotCopier](h.Store)
	if !ok {
		fail(wire.ResultUnwillingToPerform, "this store cannot make hot copies")
		return
	}
	files, err := DataFiles(h.Data)
	if err != nil {
		h.Log.Error().Err(err).Msg("backup failed")
		fail(wire.ResultOther, err.Error())
		return
	}
	start := time.Now()
	cw := &chunkWriter{w: w, dn: op.Base}
	err = Write(cw, hc, h.Keys, files)
	if err == nil {
		err = cw.flush()
	}
	if err != nil {
		h.Log.Error().Err(err).Int64("bytes_sent", cw.sent).Msg("backup failed")
		fail(wire.ResultOther, "backup: "+err.Error())
		return
	}
	h.Log.Info().Int64("bytes", cw.sent).Int("files", len(files)).Dur("duration", time.Since(start)).Msg("backup streamed to the admin socket")
	w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess})
}

// Schema passes on the schema of the handler it wraps
// (ldapserver.SchemaSource), so that the socket decodes requests with the
// identity core's schema like the LDAP listeners.
func (h *Handler) Schema() *directory.Schema {
	if src, ok := h.Next.(ldapserver.SchemaSource); ok {
		return src.Schema()
	}
	return directory.Builtin()
}

// chunkWriter sends what is written to it as search result entries of
// chunkSize bytes.
type chunkWriter struct {
	w    ldapserver.ResponseWriter
	dn   directory.DN
	buf  []byte
	sent int64
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), chunkSize-len(c.buf))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == chunkSize {
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
