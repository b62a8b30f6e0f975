// Package proctest is what tests need to run a child process of their
// own: a binary built from this module, a free loopback port to give it,
// and the stop every such test wants at the end (SIGTERM, then SIGKILL if
// the process lingers). cmd/ldapd's process tests, internal/clustertest
// and directory/etcdstore/etcdtest use it.
//
// Only tests should import this package. FreeAddr binds 127.0.0.1:0 and
// closes the listener, so another process could take the port before the
// child binds it; the child then fails to start, loudly.
package proctest

import (
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// FreeAddr returns a loopback address nothing listens on (yet).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proctest: free address: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Build builds the main package pkg (an import path of this module) into
// a temporary directory of t and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), path.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("proctest: go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Stop ends p gracefully: SIGTERM, then SIGKILL if it has not exited after
// grace. exited is closed once the process has been waited for; Stop
// returns after that, and at once if it already is.
func Stop(p *os.Process, exited <-chan struct{}, grace time.Duration) {
	select {
	case <-exited:
		return
	default:
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = p.Kill()
		<-exited
	}
}
