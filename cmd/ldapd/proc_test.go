package main

// A real `ldapd serve` subprocess for the reliability tests: signals,
// crashes, backup and restore need a process of their own.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/proctest"
)

const testDomain = "idm.example.com"
const testBase = "dc=idm,dc=example,dc=com"

// buildLdapd builds the binary once per test into a temporary directory.
func buildLdapd(t *testing.T) string {
	t.Helper()
	return proctest.Build(t, "github.com/ldapd/ldapd/cmd/ldapd")
}

// proc is a running `ldapd serve`.
type proc struct {
	cmd         *exec.Cmd
	data        string
	ldaps, ldap string // host:port
	waited      chan struct{}
	waitErr     error

	mu    sync.Mutex
	lines []string
	subs  []chan string
}

// startServe starts `ldapd serve` on loopback ports the kernel picks and
// returns once every listener and the admin socket are bound (the
// server logs "serving").
func startServe(t *testing.T, bin, data string, args ...string) *proc {
	t.Helper()
	return startServeWrapped(t, nil, bin, data, args...)
}

// startServeWrapped is startServe with the command run by wrap (e.g.
// unshare and setpriv, to imitate the systemd unit's sandbox).
func startServeWrapped(t *testing.T, wrap []string, bin, data string, args ...string) *proc {
	t.Helper()
	argv := append(append(append([]string{}, wrap...), bin), append([]string{"serve", "--data", data, "--domain", testDomain,
		"--ldaps", "127.0.0.1:0", "--ldap", "127.0.0.1:0", "--log-level", "debug"}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LDAPD_METRICS=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, data: data, waited: make(chan struct{})}
	ready := p.subscribe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() { // owns stderr until EOF; joined by the Wait goroutine
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.record(sc.Text())
		}
	}()
	go func() {
		<-scanned
		p.waitErr = cmd.Wait()
		p.mu.Lock()
		for _, c := range p.subs {
			close(c)
		}
		p.subs = nil
		p.mu.Unlock()
		close(p.waited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.waited
		if t.Failed() {
			t.Logf("server log:\n%s", p.log())
		}
	})
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for p.ldaps == "" || p.ldap == "" || !strings.Contains(p.log(), `"message":"serving"`) {
		select {
		case line, ok := <-ready:
			if !ok {
				t.Fatalf("ldapd serve exited before it was ready: %v\n%s", p.waitErr, p.log())
			}
			var l struct{ Addr, Message string }
			_ = json.Unmarshal([]byte(line), &l)
			switch l.Message {
			case "listening for LDAPS":
				p.ldaps = l.Addr
			case "listening for LDAP (StartTLS)":
				p.ldap = l.Addr
			}
		case <-timeout.C:
			t.Fatalf("ldapd serve not ready after 30 s:\n%s", p.log())
		}
	}
	p.unsubscribe(ready)
	return p
}

func (p *proc) record(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, line)
	for _, c := range p.subs {
		select {
		case c <- line:
		default: // a slow subscriber misses lines; it can re-check log()
		}
	}
}

// subscribe returns a channel of log lines from now on, closed at exit.
func (p *proc) subscribe() chan string {
	c := make(chan string, 4096)
	p.mu.Lock()
	p.subs = append(p.subs, c)
	p.mu.Unlock()
	return c
}

func (p *proc) unsubscribe(c chan string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.subs {
		if s == c {
			p.subs = append(p.subs[:i], p.subs[i+1:]...)
			return
		}
	}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// terminate sends the process SIGTERM and returns its exit code; the test
// fails if it still runs after within.
func (p *proc) terminate(t *testing.T, within time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return p.waitExit(t, within)
}

// waitExit waits for the process to end and returns its exit code.
func (p *proc) waitExit(t *testing.T, within time.Duration) int {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-p.waited:
	case <-timer.C:
		t.Fatalf("ldapd serve still running %v after the signal", within)
	}
	return p.cmd.ProcessState.ExitCode()
}

// tlsConfig trusts the data directory's generated CA.
func (p *proc) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(p.data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// dial returns an LDAPS client bound as name (unbound if name is "").
func (p *proc) dial(t *testing.T, name, pw string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldaps://"+p.ldaps, ldap.DialWithTLSConfig(p.tlsConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	if name != "" {
		if err := c.Bind(name, pw); err != nil {
			c.Close()
			t.Fatalf("bind %s: %v", name, err)
		}
	}
	return c
}

// ldapdCmd runs another ldapd command and returns stdout, stderr and the
// exit code.
func ldapdCmd(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run ldapd %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// recoverAdmin sets admin's password through the running server.
func recoverAdmin(t *testing.T, bin, data string) string {
	t.Helper()
	out, errs, code := ldapdCmd(t, bin, nil, "recover-account", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("recover-account: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// serveAsAdmin builds ldapd, starts it on a new data directory and sets
// admin's password; it skips the test with -short.
func serveAsAdmin(t *testing.T) (bin, data string, p *proc, adminPW string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, data = buildLdapd(t), t.TempDir()
	p = startServe(t, bin, data)
	return bin, data, p, recoverAdmin(t, bin, data)
}

// newToken creates the service account account, managed by
// system_admins, with the client environment cli (as admin), and returns
// a new API token of it.
func newToken(t *testing.T, bin string, cli []string, account string) string {
	t.Helper()
	if _, errs, code := ldapdCmd(t, bin, cli, "service-account", "create", account, "Test Service", "system_admins", "--name", "admin"); code != 0 {
		t.Fatalf("service-account create: %s", errs)
	}
	out, errs, code := ldapdCmd(t, bin, cli, "service-account", "api-token", "generate", "--name", "admin", account, "Test Token")
	if code != 0 {
		t.Fatalf("api-token generate: %s", errs)
	}
	return strings.TrimSpace(out)
}

// httpGet GETs path from the HTTP listener at addr and returns the status
// and the body.
func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func groupDN(name string) string { return fmt.Sprintf("cn=%s,ou=groups,%s", name, testBase) }
