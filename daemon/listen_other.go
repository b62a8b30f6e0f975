//go:build !linux

package daemon

import (
	"fmt"
	"net"
	"os"

	"github.com/rs/zerolog"
)

// listenTCP opens a TCP listener; Go sets keepalive on each accepted
// connection (on Linux, listen_linux.go sets it once on the
// listener).
func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// listenSocket opens the admin socket and makes it owner-only. Outside
// Linux there is no peer-credential check (listen_linux.go): the
// 0700 data directory (secureDataDir) is what keeps other users away, so
// it must not be loosened.
func listenSocket(path string, log zerolog.Logger) (net.Listener, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	log.Debug().Str("socket", path).Msg("admin socket: no peer-credential check on this platform; the 0700 data directory keeps other users out")
	return ln, nil
}
