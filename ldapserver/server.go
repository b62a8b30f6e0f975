package ldapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// ErrServerClosed is returned by Serve and ServeTLS after Shutdown or Close.
var ErrServerClosed = errors.New("ldapserver: server closed")

// Server serves LDAP. Set its fields before the first Serve; the zero
// value (with a Handler) serves plain LDAP without StartTLS and refuses
// password binds.
type Server struct {
	// Handler serves every operation except Unbind, Abandon and StartTLS.
	Handler Handler
	// TLSConfig enables StartTLS on Serve and is required by ServeTLS.
	TLSConfig *tls.Config
	// AllowInsecureBind lets simple binds carry passwords over connections
	// without TLS (default false: they get confidentialityRequired). Set
	// it for the local admin socket.
	AllowInsecureBind bool
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 5 minutes).
	IdleTimeout time.Duration
	// ReadTimeout bounds reading one message once its first byte arrived
	// (default 30 seconds), so a slow sender cannot hold a connection.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response (default 30 seconds).
	WriteTimeout time.Duration
	// HandshakeTimeout bounds a TLS handshake (default 10 seconds).
	HandshakeTimeout time.Duration
	// MaxMessageBytes bounds one request (default 4 MiB).
	MaxMessageBytes int
	// Limits bounds decoding work (filters, attribute lists); see wire.Limits.
	Limits wire.Limits
	// MaxConnections bounds open connections (default 4096); further
	// connections are closed at once with a Notice of Disconnection.
	MaxConnections int
	// MaxConnectionsPerIP bounds the open connections of one client IP
	// address (default 1024), so one host cannot take every slot. Unix
	// socket clients are not counted.
	MaxConnectionsPerIP int
	// MaxTimeLimit caps a search's time limit (default 60 seconds).
	MaxTimeLimit time.Duration
	// Controls lists the control OIDs the Handler understands; a request
	// with any other control marked critical is answered
	// unavailableCriticalExtension.
	Controls []string
	// InitialIdentity gives a new connection its identity before any bind
	// (nil: anonymous). The admin socket uses it to mark its clients root.
	InitialIdentity func(net.Conn) Identity
	// Logger receives one line per operation and connection events.
	Logger zerolog.Logger
	// Observer, if set, is told of every connection and operation (nil:
	// nothing is observed).
	Observer Observer

	// Outstanding operations: each connection runs one operation at a
	// time, in order (see the package doc), so the cap on outstanding
	// operations per connection is 1 and needs no setting; a pipelining
	// client waits in the socket buffer, bounded by TCP flow control.

	// schema decodes requests: the Handler's (SchemaSource) or the
	// built-in one.
	schema     *directory.Schema
	mu         sync.Mutex
	listeners  map[*net.Listener]struct{}
	conns      map[*conn]struct{}
	perIP      map[string]int
	inShutdown atomic.Bool
	// readers and writers pool connection buffers (conn.go).
	readers, writers sync.Pool
	nextConnID       atomic.Uint64
	wg               sync.WaitGroup
	// defaultsOnce: Serve and ServeTLS may start together on one Server.
	defaultsOnce sync.Once
}

// defaults fills in the zero settings, once: every listener of the Server
// calls it, and connections read the settings without a lock.
func (s *Server) defaults() { s.defaultsOnce.Do(s.setDefaults) }

func (s *Server) setDefaults() {
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = 5 * time.Minute
	}
	if s.ReadTimeout <= 0 {
		s.ReadTimeout = 30 * time.Second
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = 30 * time.Second
	}
	if s.HandshakeTimeout <= 0 {
		s.HandshakeTimeout = 10 * time.Second
	}
	if s.MaxMessageBytes <= 0 {
		s.MaxMessageBytes = wire.DefaultMaxPacketSize
	}
	if s.MaxConnections <= 0 {
		s.MaxConnections = 4096
	}
	if s.MaxConnectionsPerIP <= 0 {
		s.MaxConnectionsPerIP = 1024
	}
	if s.MaxTimeLimit <= 0 {
		s.MaxTimeLimit = 60 * time.Second
	}
	s.schema = directory.Builtin()
	if src, ok := s.Handler.(SchemaSource); ok && src.Schema() != nil {
		s.schema = src.Schema()
	}
}

// Serve accepts plain LDAP connections on ln (StartTLS available when
// TLSConfig is set) until Shutdown. It always returns a non-nil error.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeTLS accepts LDAPS connections on ln: each starts with a TLS
// handshake using TLSConfig.
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.TLSConfig == nil {
		return errors.New("ldapserver: ServeTLS needs TLSConfig")
	}
	return s.serve(ln, true)
}

func (s *Server) serve(ln net.Listener, useTLS bool) error {
	s.mu.Lock()
	s.defaults()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[*net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
		s.perIP = map[string]int{}
	}
	s.listeners[&ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, &ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.inShutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.Logger.Warn().Err(err).Dur("retry_in", backoff).Msg("accept failed")
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := s.newConn(nc, useTLS)
		if c == nil {
			continue
		}
		go c.serve()
	}
}

// newConn registers a connection, or refuses it when the server is full or
// shutting down.
func (s *Server) newConn(nc net.Conn, useTLS bool) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	ip := clientIP(nc.RemoteAddr())
	full := len(s.conns) >= s.MaxConnections
	if !full && ip != "" && s.perIP[ip] >= s.MaxConnectionsPerIP {
		full = true
		s.Logger.Warn().Str("remote", nc.RemoteAddr().String()).Int("open_from_ip", s.perIP[ip]).Msg("connection refused: too many from this address")
	}
	if s.inShutdown.Load() || full {
		s.Logger.Warn().Str("remote", nc.RemoteAddr().String()).Int("open", len(s.conns)).Msg("connection refused: server full or closing")
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		if !useTLS {
			_, _ = nc.Write(wire.AppendNoticeOfDisconnection(nil, wire.ResultBusy, "too many connections"))
		}
		_ = nc.Close()
		return nil
	}
	c := &conn{srv: s, netConn: nc, id: s.nextConnID.Add(1), startTLS: useTLS, ip: ip}
	s.conns[c] = struct{}{}
	if ip != "" {
		s.perIP[ip]++
	}
	s.wg.Add(1)
	if s.Observer != nil {
		s.Observer.ConnOpened()
	}
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.ip != "" {
		if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
			delete(s.perIP, c.ip)
		}
	}
	s.mu.Unlock()
	if s.Observer != nil {
		s.Observer.ConnClosed()
	}
	s.wg.Done()
}

// Shutdown stops accepting, lets each connection finish its operation in
// flight, then closes it with a Notice of Disconnection. When ctx ends
// first, the remaining connections are closed at once and ctx's error is
// returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		_ = (*ln).Close()
	}
	for c := range s.conns {
		c.wake()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close closes every listener and connection at once.
func (s *Server) Close() {
	s.inShutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for ln := range s.listeners {
		_ = (*ln).Close()
	}
	for c := range s.conns {
		_ = c.netConn.Close()
	}
}

// OpenConnections reports how many connections are open.
func (s *Server) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// clientIP is the IP address of a TCP client, "" for other networks.
func clientIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	return ""
}
