//go:build linux

package main

import (
	"context"
	"net"
	"os"
	"syscall"
	"time"
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
