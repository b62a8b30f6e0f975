//go:build linux

package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// TCP keepalive on LDAP connections, Go's defaults for accepted
// connections: the first probe after 15 s idle, then every 15 s, and the
// connection is dropped after 9 unanswered probes.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// listenTCP opens a TCP listener with keepalive set once, on the
// listening socket: Linux copies these options to every connection it
// accepts, so the four setsockopt calls Go would otherwise make for each
// new connection (a cost paid by every client that connects per
// operation) are made once.
func listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{
		KeepAlive: -1, // inherited from the listener instead
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) { serr = setKeepAlive(int(fd)) }); err != nil {
				return err
			}
			return serr
		},
	}
	return lc.Listen(context.Background(), "tcp", addr)
}

func setKeepAlive(fd int) error {
	for _, o := range []struct{ level, name, value int }{
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, int(keepAliveIdle / time.Second)},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, int(keepAliveInterval / time.Second)},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAliveCount},
	} {
		if err := syscall.SetsockoptInt(fd, o.level, o.name, o.value); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	return nil
}

// listenSocket opens the admin socket, which serves the root identity to
// whoever connects, so two rules keep other local users off it:
//
//   - The socket is bound under umask 177, so the file is 0600 from the
//     moment it exists (a chmod after bind leaves a window in which another
//     user can connect). Umask is per process; other goroutines creating
//     files in that instant get stricter modes, never looser ones.
//   - Every accepted connection's peer is checked with SO_PEERCRED: only
//     the server's own uid and root (0) are served; anyone else is closed
//     and logged as a security event. This holds even if the file's or the
//     data directory's mode is loosened later.
//
// A stale socket from a crashed server is replaced; bbolt's file lock
// (or, with etcd, nothing else using this data directory) guarantees no
// other server uses it.
func listenSocket(path string, log zerolog.Logger) (net.Listener, error) {
	_ = os.Remove(path)
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	return &peerCheckListener{Listener: ln, path: path, uid: uint32(os.Getuid()), log: log}, nil
}

// peerCheckListener accepts only connections whose peer runs as uid or as
// root.
type peerCheckListener struct {
	net.Listener
	path string
	uid  uint32
	log  zerolog.Logger
}

func (l *peerCheckListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cred, err := peerCred(c)
		if err == nil && (cred.Uid == 0 || cred.Uid == l.uid) {
			return c, nil
		}
		ev := l.log.Warn().Str("event", "security").Str("socket", l.path)
		if err != nil {
			ev = ev.Err(err)
		} else {
			ev = ev.Uint32("peer_uid", cred.Uid).Int32("peer_pid", cred.Pid).Uint32("server_uid", l.uid)
		}
		ev.Msg("admin socket: refused a connection from another user (only the server's own uid and root are served)")
		c.Close()
	}
}

// peerCred returns the credentials of a Unix socket connection's peer.
func peerCred(c net.Conn) (*unix.Ucred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("not a unix socket connection: %T", c)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, os.NewSyscallError("getsockopt SO_PEERCRED", cerr)
	}
	return cred, nil
}
