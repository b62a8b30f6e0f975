//go:build cluster

package clustertest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/proctest"
)

// The ldapd nodes that must die like a crashed host (SIGKILL: no drain, no
// store Close, connections cut by the kernel) run as processes of the real
// binary: `ldapd serve --store etcd`, built once per test.

// buildLdapd builds cmd/ldapd into a temporary directory.
func buildLdapd(t *testing.T) string {
	t.Helper()
	return proctest.Build(t, "github.com/ldapd/ldapd/cmd/ldapd")
}

// etcdArgs are the flags every ldapd command over the cluster takes.
type etcdArgs struct {
	endpoints       []string
	kekFile         string
	maxTxnOps       int
	maxRequestBytes int
}

// writeKEK writes kek where --keyring-kek reads it (hex, mode 0600).
func writeKEK(t *testing.T, kek []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(kek)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e etcdArgs) args() []string {
	out := []string{"--store", "etcd", "--etcd-endpoints", strings.Join(e.endpoints, ","), "--etcd-allow-plaintext",
		"--keyring-kek", e.kekFile, "--etcd-max-txn-ops", strconv.Itoa(e.maxTxnOps)}
	if e.maxRequestBytes > 0 {
		out = append(out, "--etcd-max-request-bytes", strconv.Itoa(e.maxRequestBytes))
	}
	return out
}

// proc is an `ldapd serve` process on loopback.
type proc struct {
	name    string
	data    string
	addr    string // LDAPS
	metrics string // /metrics, /readyz
	cmd     *exec.Cmd
	exited  chan struct{}
	logs    *procLog
	tls     *tls.Config
	// ready is the time from exec to the first /readyz 200.
	ready time.Duration
}

// procLog keeps a process's output and reports its LDAPS address once
// serve logs it (JSON lines).
type procLog struct {
	mu        sync.Mutex
	b         bytes.Buffer
	partial   []byte
	listening chan string
}

func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		var line struct{ Addr, Message string }
		if json.Unmarshal(l.partial[:i], &line) == nil && line.Message == "listening for LDAPS" {
			select {
			case l.listening <- line.Addr:
			default:
			}
		}
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *procLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProc runs `ldapd serve` with args in a fresh data directory and
// returns once /readyz answers 200 (the view, if any, is loaded); the test's
// cleanup stops it (SIGTERM) unless it was killed.
func startProc(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	return startProcIn(t, bin, name, filepath.Join(t.TempDir(), name), args...)
}

// startProcIn is startProc with the data directory data.
func startProcIn(t *testing.T, bin, name, data string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, data: data, metrics: proctest.FreeAddr(t), exited: make(chan struct{}),
		logs: &procLog{listening: make(chan string, 1)}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--data", p.data, "--ldaps", "127.0.0.1:0", "--ldap", "",
		"--log-format", "json", "--metrics", p.metrics, "--drain-period", "0s"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	// The LDAPS address comes from the log, readiness from /readyz.
	deadline := time.Now().Add(15 * time.Minute)
	for p.addr == "" || p.ready == 0 {
		select {
		case <-p.exited:
			t.Fatalf("node %s exited before it was ready:\n%s", name, p.logs)
		case addr := <-p.logs.listening:
			p.addr = addr
		case <-time.After(5 * time.Millisecond):
		}
		if p.ready == 0 {
			if code, _ := p.get("/readyz"); code == http.StatusOK {
				p.ready = time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after %v:\n%s", name, time.Since(start), p.logs)
		}
	}
	pem, err := os.ReadFile(filepath.Join(p.data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	p.tls = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	return p
}

// stop ends the process with SIGTERM (SIGKILL after 10 s).
func (p *proc) stop() { proctest.Stop(p.cmd.Process, p.exited, 10*time.Second) }

// kill ends the process with SIGKILL, as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// get fetches path from the metrics listener; code 0 when it does not answer.
func (p *proc) get(path string) (int, string) {
	cli := http.Client{Timeout: 5 * time.Second}
	resp, err := cli.Get("http://" + p.metrics + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads one unlabelled sample from /metrics; the test fails
// without it.
func (p *proc) metric(t *testing.T, name string) float64 {
	t.Helper()
	v, ok := p.metricOK(t, name)
	if !ok {
		t.Fatalf("node %s: /metrics has no %s", p.name, name)
	}
	return v
}

func (p *proc) metricOK(t *testing.T, name string) (float64, bool) {
	t.Helper()
	code, body := p.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("node %s /metrics: %d %s", p.name, code, body)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatalf("node %s: metric %s: %v", p.name, name, err)
			}
			return v, true
		}
	}
	return 0, false
}

// dial returns a client of p bound as name.
func (p *proc) dial(name, pw string) (*ldap.Conn, error) {
	return dialBound("ldaps://"+p.addr, p.tls, name, pw)
}

// procStatus reads a field of /proc/PID/status in bytes (VmRSS, VmHWM).
func (p *proc) status(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("/proc/%d/status has no %s", p.cmd.Process.Pid, field)
	return 0
}

// runLdapd runs an ldapd command (not serve) and returns its standard
// output.
func runLdapd(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ldapd %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}
