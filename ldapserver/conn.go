package ldapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/internal/logfield"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// StartTLSOID is the StartTLS extended operation (RFC 4511 section 4.14).
const StartTLSOID = wire.StartTLSOID

// conn is one client connection. Only its own goroutine touches its fields,
// except netConn (closed by Server.Close) and wake (called by Shutdown).
type conn struct {
	srv      *Server
	netConn  net.Conn
	id       uint64
	startTLS bool   // handshake first (LDAPS)
	ip       string // client IP counted against MaxConnectionsPerIP
	remote   net.Addr

	rw       net.Conn // netConn, or the TLS connection over it
	br       *bufio.Reader
	bw       *bufio.Writer
	tls      *tls.ConnectionState
	identity Identity
	// readDeadline and writeDeadline are the socket deadlines this
	// goroutine last set (setReadDeadline, setWriteDeadline).
	readDeadline, writeDeadline time.Time
	// idleFrom is when the connection last became idle: the end of the
	// last operation (its start plus its duration, both measured anyway)
	// or of the TLS handshake. The idle deadline counts from it, so that
	// waiting for the next request reads no clock.
	idleFrom time.Time
	// identityDesc is identityString(identity) once describeIdentity has
	// worked it out, for the per-operation log; "" until then.
	identityDesc string
	buf          []byte // response encoding buffer, reused
	pkt          []byte // request packet buffer, reused (Decode copies)
	// What every operation needs, reused from one to the next: the
	// operation runs in this goroutine and its Request, ResponseWriter
	// and context are not used after ServeLDAP returns.
	resp   response
	req    Request
	search searchContext
	bases  baseMemo
	ops    opMemory
	// ctx is every operation's context: the Handler's ConnContext, made
	// when the connection opened, or context.Background().
	ctx    context.Context
	logBuf []byte // the access line's target, for a search

	mu   sync.Mutex
	busy bool // an operation is in flight
}

// wake makes an idle connection notice shutdown: its blocked read returns.
func (c *conn) wake() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.busy {
		_ = c.netConn.SetReadDeadline(time.Now())
	}
}

func (c *conn) setBusy(b bool) {
	c.mu.Lock()
	c.busy = b
	c.mu.Unlock()
}

// serve is the connection loop. Concurrency rule: operations run one at a
// time, in this goroutine, in the order received (see the package doc);
// the loop alone reads and changes the connection state.
func (c *conn) serve() {
	c.remote = c.netConn.RemoteAddr()
	log := c.srv.Logger.With().Uint64("conn", c.id).Str("remote", c.remote.String()).Logger()
	defer func() {
		if p := recover(); p != nil {
			log.Error().Interface("panic", p).Str("stack", string(debug.Stack())).Msg("connection handler panicked")
		}
		_ = c.netConn.Close()
		c.srv.forget(c)
		log.Debug().Msg("connection closed")
	}()
	c.rw = c.netConn
	c.ctx = context.Background()
	if cc, ok := c.srv.Handler.(ConnContexter); ok {
		c.ctx = cc.ConnContext(c.ctx, c.id, c.remote)
	}
	c.setIdentity(c.initialIdentity())
	if c.startTLS {
		if err := c.handshake(); err != nil {
			log.Info().Err(err).Msg("TLS handshake failed")
			return
		}
	}
	c.br, c.bw = c.srv.getReader(c.rw), c.srv.getWriter(c.rw)
	c.idleFrom = time.Now()
	defer func() {
		// Runs before the close deferred above; nothing else touches the
		// buffers, so they can serve the next connection.
		c.srv.putReader(c.br)
		c.srv.putWriter(c.bw)
		c.br, c.bw = nil, nil
	}()
	log.Debug().Bool("tls", c.tls != nil).Msg("connection open")
	for !c.srv.inShutdown.Load() {
		if c.br.Buffered() == 0 {
			// The client is still reading our last response. Let the
			// other connections' goroutines run first: by the time this
			// one is scheduled again its next request has usually
			// arrived, and the read below finds it instead of failing
			// with EAGAIN, parking, and reading again once epoll says so
			// (two system calls and a wakeup per request). With nothing
			// else runnable Gosched returns at once.
			runtime.Gosched()
		}
		packet, err := c.readPacket()
		if err != nil {
			c.readFailed(err, log)
			return
		}
		c.setBusy(true)
		keep := c.handle(packet, log)
		c.setBusy(false)
		if !keep {
			return
		}
	}
	c.disconnect(wire.ResultUnavailable, "server shutting down")
}

// handshake runs the TLS handshake under HandshakeTimeout. The bound is a
// deadline on the socket rather than a context: HandshakeContext would
// start a goroutine and a timer for each connection to watch the context.
// readPacket and queue set their own deadlines afterwards.
func (c *conn) handshake() error {
	tc := tls.Server(c.netConn, c.srv.TLSConfig)
	deadline := time.Now().Add(c.srv.HandshakeTimeout)
	if err := c.netConn.SetDeadline(deadline); err != nil {
		return err
	}
	// Both deadlines are now the handshake's: readPacket and queue must
	// replace them, not take them for their own.
	c.readDeadline, c.writeDeadline = deadline, deadline
	// Shutdown sets inShutdown before it wakes idle connections; a wake
	// that came before the deadline above was overwritten, so look again.
	if c.srv.inShutdown.Load() {
		return ErrServerClosed
	}
	if err := tc.Handshake(); err != nil {
		return err
	}
	st := tc.ConnectionState()
	c.tls, c.rw = &st, tc
	c.idleFrom = time.Now()
	return nil
}

// Each connection's read and write buffers come from the Server's pools,
// as in net/http: a client that connects for every operation would
// otherwise leave 8 KiB of garbage per connection.
func (s *Server) getReader(r io.Reader) *bufio.Reader {
	if br, ok := s.readers.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, 4096)
}

func (s *Server) getWriter(w io.Writer) *bufio.Writer {
	if bw, ok := s.writers.Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, 4096)
}

func (s *Server) putReader(br *bufio.Reader) {
	br.Reset(nil)
	s.readers.Put(br)
}

func (s *Server) putWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	s.writers.Put(bw)
}

// readPacket waits up to IdleTimeout for a message to start and then up to
// ReadTimeout for the rest of it.
//
// Setting a deadline costs a runtime timer update, and the idle one was
// set before every request: now it is set only when the one in force would
// expire more than deadlineSlack earlier than asked, and the message
// deadline only when the message is not already whole in the buffer
// (almost always it is: a request arrives in one segment). Timeouts can
// therefore fire up to deadlineSlack early, never late. The idle deadline
// counts from idleFrom, a moment ago, rather than from a clock read here.
func (c *conn) readPacket() ([]byte, error) {
	if err := c.setReadDeadline(c.idleFrom, c.srv.IdleTimeout); err != nil {
		return nil, err
	}
	if _, err := c.br.Peek(1); err != nil {
		return nil, err
	}
	if !wire.Complete(peekBuffered(c.br)) {
		// Peek may have waited long: this deadline needs the clock.
		if err := c.setReadDeadline(time.Now(), c.srv.ReadTimeout); err != nil {
			return nil, err
		}
	}
	// wire.Decode copies what it keeps, so the packet buffer is reused;
	// one left large by a big message is dropped rather than kept.
	if cap(c.pkt) > 64<<10 {
		c.pkt = nil
	}
	var err error
	c.pkt, err = wire.AppendPacket(c.pkt[:0], c.br, c.srv.MaxMessageBytes)
	return c.pkt, err
}

func (c *conn) readFailed(err error, log zerolog.Logger) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.As(err, &ne) && ne.Timeout():
		if c.srv.inShutdown.Load() {
			c.disconnect(wire.ResultUnavailable, "server shutting down")
		} else {
			log.Info().Msg("connection timed out")
		}
	case errors.Is(err, wire.ErrMessageTooLarge), errors.Is(err, wire.ErrMalformed):
		log.Warn().Err(logfield.ClipErr(err)).Msg("malformed message; disconnecting")
		c.disconnect(wire.ResultProtocolError, err.Error())
	default:
		log.Info().Err(logfield.ClipErr(err)).Msg("read failed")
	}
}

// disconnect sends a Notice of Disconnection (best effort).
func (c *conn) disconnect(code int, msg string) {
	if c.bw == nil {
		return
	}
	c.writeDeadline = time.Now().Add(time.Second)
	_ = c.netConn.SetWriteDeadline(c.writeDeadline)
	_, _ = c.bw.Write(wire.AppendNoticeOfDisconnection(c.buf[:0], code, msg))
	_ = c.bw.Flush()
}

// handle decodes and runs one message; it reports whether to keep the
// connection open.
func (c *conn) handle(packet []byte, log zerolog.Logger) bool {
	// The operation's one clock read: its duration, its search time limit
	// and the next idle deadline count from it.
	start := time.Now()
	c.idleFrom = start
	msg, err := wire.Decode(packet, c.srv.Limits)
	if err != nil {
		var de *wire.DecodeError
		if errors.As(err, &de) {
			if tag, ok := de.ResponseTag(); ok {
				log.Warn().Int32("msgid", de.ID).Err(logfield.ClipErr(err)).Msg("malformed request")
				return c.send(wire.AppendResult(c.buf[:0], de.ID, tag,
					wire.Result{Code: wire.ResultProtocolError, Message: err.Error()}, nil))
			}
		}
		log.Warn().Err(logfield.ClipErr(err)).Msg("undecodable message; disconnecting")
		c.disconnect(wire.ResultProtocolError, "malformed message")
		return false
	}
	switch op := msg.Op.(type) {
	case *wire.UnbindRequest:
		return false
	case *wire.AbandonRequest:
		return true // operations run serially: nothing is ever in flight
	case *wire.ExtendedRequest:
		if op.Name == StartTLSOID {
			return c.startTLSOp(msg.ID, log)
		}
	case *wire.BindRequest:
		c.setIdentity(c.initialIdentity()) // RFC 4511 4.2.1: a bind resets the state
		if code, why := c.bindPrecheck(op); code != wire.ResultSuccess {
			log.Info().Int32("msgid", msg.ID).Str("op", "bind").Str("target", logfield.Clip(op.Name)).Int("code", code).Msg(why)
			c.observe("bind", code, time.Since(start))
			return c.send(wire.AppendBindResponse(c.buf[:0], msg.ID, wire.Result{Code: code, Message: why}, nil, nil))
		}
	}
	return c.dispatch(msg, start, log)
}

func (c *conn) initialIdentity() Identity {
	if c.srv.InitialIdentity != nil {
		return c.srv.InitialIdentity(c.netConn)
	}
	return nil
}

func (c *conn) bindPrecheck(op *wire.BindRequest) (int, string) {
	switch {
	case op.Version != 3:
		return wire.ResultProtocolError, "only LDAP version 3 is supported"
	case !op.Simple:
		return wire.ResultAuthMethodNotSupported, "SASL mechanisms are not supported; use a simple bind over TLS"
	case len(op.Password) > 0 && c.tls == nil && !c.srv.AllowInsecureBind:
		return wire.ResultConfidentialityRequired, "passwords and tokens are only accepted over TLS: use ldaps:// or StartTLS (-ZZ)"
	}
	return wire.ResultSuccess, ""
}

func (c *conn) startTLSOp(id int32, log zerolog.Logger) bool {
	result := func(code int, msg string) []byte {
		return wire.AppendExtendedResponse(c.buf[:0], id, wire.Result{Code: code, Message: msg}, StartTLSOID, nil, false, nil)
	}
	switch {
	case c.tls != nil:
		return c.send(result(wire.ResultOperationsError, "TLS is already established"))
	case c.srv.TLSConfig == nil:
		return c.send(result(wire.ResultProtocolError, "StartTLS is not available on this listener"))
	case c.br.Buffered() > 0:
		// The client must wait for our response before its handshake.
		c.send(result(wire.ResultOperationsError, "data received after the StartTLS request"))
		return false
	}
	if !c.send(result(wire.ResultSuccess, "")) {
		return false
	}
	if err := c.handshake(); err != nil {
		log.Info().Err(err).Msg("StartTLS handshake failed")
		return false
	}
	c.br.Reset(c.rw)
	c.bw.Reset(c.rw)
	log.Debug().Msg("StartTLS established")
	return true
}

// dispatch converts the request and calls the Handler.
func (c *conn) dispatch(msg *wire.Message, start time.Time, log zerolog.Logger) bool {
	// Operations run one at a time and finish before dispatch returns, so
	// only a search needs a context of its own: its time limit.
	ctx := c.ctx
	w := &c.resp
	*w = response{c: c, id: msg.ID, tag: responseTag(msg.Op), attrs: w.attrs[:0]}
	op, err := toOperation(c.srv.schema, msg.Op, &c.bases, &c.ops)
	if err == nil {
		err = checkControls(msg.Controls)
	}
	if err == nil {
		if crit, ok := c.unknownCritical(msg.Controls); ok {
			w.WriteResult(Result{Code: wire.ResultUnavailableCriticalExtension, Message: "critical control " + crit + " is not supported"})
		} else {
			if s, ok := op.(*SearchRequest); ok {
				limit := c.srv.MaxTimeLimit
				if s.TimeLimit > 0 && time.Duration(s.TimeLimit)*time.Second < limit {
					limit = time.Duration(s.TimeLimit) * time.Second
				}
				ctx = c.search.start(c.ctx, start, limit) // the limit counts from decoding
				defer c.search.end()
				w.typesOnly = s.TypesOnly
			}
			req := &c.req
			*req = Request{ctx: ctx, MessageID: msg.ID, Op: op, Controls: msg.Controls, Bound: c.identity,
				TLS: c.tls, ConnID: c.id, RemoteAddr: c.remote, PasswordsAllowed: c.tls != nil || c.srv.AllowInsecureBind}
			c.srv.Handler.ServeLDAP(w, req)
			*req = Request{}
		}
	} else {
		w.WriteError(err)
	}
	if !w.done {
		w.WriteResult(Result{Code: wire.ResultOther, Message: "the server did not answer this operation"})
		log.Error().Int32("msgid", msg.ID).Msg("handler returned without a result")
	}
	if w.identitySet && w.code == wire.ResultSuccess {
		c.setIdentity(w.identity)
	}
	name := msg.Op.Tag().String()
	if op != nil {
		name = op.OpName()
	}
	took := time.Since(start) // for the log line and the Observer both
	c.idleFrom = start.Add(took)
	ev := log.Info()
	if w.code == wire.ResultOther {
		ev = log.Error()
	}
	if ev.Enabled() { // the target and identity strings only for a line that is written
		ev = ev.Int32("msgid", msg.ID).Str("op", name)
		if s, ok := op.(*SearchRequest); ok && s.Base.Depth() > 0 {
			// The base DN written into a reused buffer: the most
			// frequent operation makes no string for its line.
			c.logBuf = s.Base.AppendString(c.logBuf[:0])
			if len(c.logBuf) <= logfield.Max {
				ev = ev.Bytes("target", c.logBuf)
			} else {
				ev = ev.Str("target", logfield.Clip(string(c.logBuf)))
			}
		} else {
			target := ""
			if op != nil {
				target = op.Target()
			}
			ev = ev.Str("target", logfield.Clip(target))
		}
		ev = ev.Str("identity", c.describeIdentity()).Int("code", w.code)
		if took >= 0 && took < maxExactMillis {
			var num [24]byte // what zerolog's Dur would write, without a float
			ev = ev.RawJSON("duration", appendMillis(num[:0], took))
		} else {
			ev = ev.Dur("duration", took)
		}
	}
	if w.entries > 0 {
		ev = ev.Int("entries", w.entries)
	}
	if w.internal != nil {
		ev = ev.AnErr("error", logfield.ClipErr(w.internal))
	}
	ev.Send()
	c.observe(name, w.code, took)
	c.ops.clear() // op is done with, the access line written
	return !w.failed
}

// observe reports a finished operation, which took d, to the Server's
// Observer, if any.
func (c *conn) observe(op string, code int, d time.Duration) {
	if c.srv.Observer != nil {
		c.srv.Observer.OpDone(op, code, d)
	}
}

// setIdentity changes the bound identity and its description for the log,
// which is computed once here rather than for every operation.
func (c *conn) setIdentity(id Identity) {
	c.identity, c.identityDesc = id, ""
}

// describeIdentity is identityString(c.identity), worked out once per
// bind and only when a log line needs it.
func (c *conn) describeIdentity() string {
	if c.identityDesc == "" {
		c.identityDesc = identityString(c.identity)
	}
	return c.identityDesc
}

func identityString(id Identity) string {
	if id == nil {
		return "anonymous"
	}
	return id.String()
}

// unknownCritical returns the type of the first critical control the
// server does not support, if any.
func (c *conn) unknownCritical(controls []wire.Control) (string, bool) {
	for _, ctl := range controls {
		if ctl.Critical && !slices.Contains(c.srv.Controls, ctl.OID) {
			return logfield.Clip(ctl.OID), true
		}
	}
	return "", false
}

// send writes one encoded message and flushes; false means the connection
// is broken.
func (c *conn) send(b []byte) bool {
	return c.queue(b) && c.bw.Flush() == nil
}

// queue writes one encoded message into the connection's buffer without
// flushing it (bufio writes through when the buffer fills); the next send
// flushes. false means the connection is broken.
func (c *conn) queue(b []byte) bool {
	c.buf = b[:0]
	if err := c.setWriteDeadline(c.srv.WriteTimeout); err != nil {
		return false
	}
	_, err := c.bw.Write(b)
	return err == nil
}

// deadlineSlack is how much earlier than asked a read or write deadline
// may fall, so that it need not be set again for every message: a
// sixteenth of the timeout, at most a second.
func deadlineSlack(d time.Duration) time.Duration { return min(d/16, time.Second) }

// setReadDeadline makes the read deadline from+d, unless the one in force
// already falls within deadlineSlack before that. from is now or a moment
// before (never later), read from the clock by the caller.
func (c *conn) setReadDeadline(from time.Time, d time.Duration) error {
	if c.readDeadline.IsZero() || deadlineDue(c.readDeadline.Sub(from), d) {
		c.readDeadline = from.Add(d)
		return c.netConn.SetReadDeadline(c.readDeadline)
	}
	return nil
}

// setWriteDeadline makes the write deadline now+d, unless the one in force
// already falls within deadlineSlack before that. It is checked for every
// message written, a search's entries among them, so it reads only the
// monotonic clock (time.Until) unless the deadline is to be replaced.
func (c *conn) setWriteDeadline(d time.Duration) error {
	if c.writeDeadline.IsZero() || deadlineDue(time.Until(c.writeDeadline), d) {
		c.writeDeadline = time.Now().Add(d)
		return c.netConn.SetWriteDeadline(c.writeDeadline)
	}
	return nil
}

// deadlineDue reports whether a deadline left falls due after left
// (negative: passed) is to be replaced by one d from now: it is later than
// that, or earlier by more than the slack.
func deadlineDue(left, d time.Duration) bool {
	return left > d || d-left > deadlineSlack(d)
}

// peekBuffered returns what br holds without reading more.
func peekBuffered(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return b
}

func responseTag(op wire.Request) wire.ResponseTag {
	tag, ok := op.Tag().ResponseTag()
	if !ok {
		return wire.ApplicationExtendedResponse
	}
	return tag
}
