package proctest_test

import (
	"bufio"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/ldapd/ldapd/internal/proctest"
)

// TestFreeAddr: the address is on loopback and can be bound.
func TestFreeAddr(t *testing.T) {
	addr := proctest.FreeAddr(t)
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr = %q (%v), want 127.0.0.1:port", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	ln.Close()
}

// start runs the shell script and returns it, once it has printed its
// first line, with a channel closed once it is waited for.
func start(t *testing.T, script string) (*exec.Cmd, chan struct{}) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatalf("%q printed no line: %v", script, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return cmd, exited
}

// TestStopTerminates: a process that honours SIGTERM ends by it, well
// before the grace period.
func TestStopTerminates(t *testing.T) {
	cmd, exited := start(t, "echo ready; exec sleep 60")
	began := time.Now()
	proctest.Stop(cmd.Process, exited, time.Minute)
	if d := time.Since(began); d > 30*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	if ws := cmd.ProcessState.String(); ws != "signal: terminated" {
		t.Fatalf("process state %q, want signal: terminated", ws)
	}
}

// TestStopKillsAfterGrace: a process that ignores SIGTERM is killed once
// the grace period has passed.
func TestStopKillsAfterGrace(t *testing.T) {
	cmd, exited := start(t, "trap '' TERM; echo ready; exec sleep 60")
	proctest.Stop(cmd.Process, exited, 300*time.Millisecond)
	if ws := cmd.ProcessState.String(); ws != "signal: killed" {
		t.Fatalf("process state %q, want signal: killed", ws)
	}
}

// TestStopAfterExit: stopping a process that has already ended returns at once.
func TestStopAfterExit(t *testing.T) {
	cmd, exited := start(t, "echo done")
	<-exited
	proctest.Stop(cmd.Process, exited, time.Minute)
}

// TestBuild: the binary is built and runs.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := proctest.Build(t, "github.com/ldapd/ldapd/cmd/ldapd")
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
}
