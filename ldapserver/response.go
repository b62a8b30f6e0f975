package ldapserver

import (
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// response is the ResponseWriter of one operation. Each conn reuses one
// (a ResponseWriter may not be used after ServeLDAP returns), and with it
// attrs, the attribute list WriteEntry encodes from.
type response struct {
	c         *conn
	id        int32
	tag       wire.ResponseTag
	typesOnly bool

	done        bool
	failed      bool // the connection broke while writing
	code        int
	entries     int
	identity    Identity
	identitySet bool
	internal    error // an unmapped error, for the log
	attrs       []wire.Attribute
}

func (w *response) WriteEntry(e *directory.Entry) error {
	if w.done || w.failed {
		return errWriteAfterDone
	}
	w.attrs = w.attrs[:0]
	for _, a := range e.Attrs {
		vals := a.Values
		if w.typesOnly {
			vals = nil
		}
		w.attrs = append(w.attrs, wire.Attribute{Type: a.Name, Values: vals})
	}
	defer clear(w.attrs) // no view of a lent entry outlives the call
	// Entries are buffered; the result's send flushes them (and bufio
	// writes whenever its buffer fills), so a search costs one write
	// syscall rather than one per entry plus one. The DN is encoded
	// straight into the message, the values from the entry's strings
	// (for a lent entry, the store's own bytes).
	if !w.c.queue(wire.AppendSearchEntryDN(w.c.buf[:0], w.id, e.DN.AppendString, w.attrs, nil)) {
		w.failed = true
		return errConnBroken
	}
	w.entries++
	return nil
}

func (w *response) WriteResult(r Result) {
	if w.done {
		return
	}
	w.done, w.code = true, r.Code
	res := wire.Result{Code: r.Code, MatchedDN: r.MatchedDN, Message: r.Message}
	var b []byte
	if w.tag == wire.ApplicationBindResponse {
		b = wire.AppendBindResponse(w.c.buf[:0], w.id, res, nil, r.Controls)
	} else {
		b = wire.AppendResult(w.c.buf[:0], w.id, w.tag, res, r.Controls)
	}
	if !w.c.send(b) {
		w.failed = true
	}
}

func (w *response) WriteError(err error) {
	r, known := ResultFromError(err)
	if !known {
		w.internal = err
	}
	w.WriteResult(r)
}

func (w *response) WriteExtended(r Result, name string, value []byte) {
	if w.done {
		return
	}
	w.done, w.code = true, r.Code
	res := wire.Result{Code: r.Code, MatchedDN: r.MatchedDN, Message: r.Message}
	if !w.c.send(wire.AppendExtendedResponse(w.c.buf[:0], w.id, res, name, value, value != nil, r.Controls)) {
		w.failed = true
	}
}

func (w *response) SetIdentity(id Identity) {
	w.identity, w.identitySet = id, true
}

type writeError string

func (e writeError) Error() string { return string(e) }

const (
	errWriteAfterDone = writeError("ldapserver: entry written after the result")
	errConnBroken     = writeError("ldapserver: connection broken")
)
