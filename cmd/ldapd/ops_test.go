package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/internal/proctest"
)

// logWatch collects a server's log and closes seen when a line containing
// want is written.
type logWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitServing waits for the line w watches for, from a serve run whose
// exit code arrives on done; the test fails if serve exits first or the
// line has not come after 30 s.
func (w *logWatch) waitServing(t *testing.T, done <-chan int) {
	t.Helper()
	select {
	case <-w.seen:
	case code := <-done:
		t.Fatalf("serve exited %d:\n%s", code, w)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", w)
	}
}

func runCLI(t *testing.T, environ map[string]string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(k string) string { return environ[k] }}
	return run(context.Background(), e, args), out.String()
}

// TestServeHealthAndMetrics runs ldapd serve with a configuration file
// naming the metrics listener, checks /healthz, /readyz and /metrics and
// ldapd healthcheck against it, then stops the server and checks
// healthcheck fails.
func TestServeHealthAndMetrics(t *testing.T) {
	dir := t.TempDir()
	maddr := proctest.FreeAddr(t)
	conf := filepath.Join(dir, "ldapd.toml")
	if err := os.WriteFile(conf, []byte("domain = \"idm.example.com\"\nldaps = \"127.0.0.1:0\"\nldap = \"\"\nmetrics = \""+maddr+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logWatch{want: "listening for metrics", seen: make(chan struct{})}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs,
		getenv: func(k string) string { return map[string]string{"LDAPD_DATA": filepath.Join(dir, "data")}[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() { done <- run(ctx, e, []string{"serve", "--config", conf}) }()
	logs.waitServing(t, done)

	get := func(path string) (int, string) { return httpGet(t, maddr, path) }
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "\nldapd_store_entries ") || !strings.Contains(body, "ldapd_connections_open 0") {
		t.Errorf("/metrics = %d:\n%s", code, body)
	}
	for _, args := range [][]string{
		{"healthcheck", "--config", conf},
		{"healthcheck", "--metrics", maddr, "--live"},
		{"healthcheck", "--url", "http://" + maddr + "/readyz"},
		{"healthcheck", "--url", "http://" + maddr},
	} {
		if code, out := runCLI(t, nil, args...); code != 0 || !strings.Contains(out, ": ") {
			t.Errorf("%v: exit %d: %s", args, code, out)
		}
	}
	if code, out := runCLI(t, map[string]string{"LDAPD_METRICS": maddr}, "healthcheck"); code != 0 {
		t.Errorf("healthcheck with LDAPD_METRICS: exit %d: %s", code, out)
	}

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs)
	}
	if code, out := runCLI(t, nil, "healthcheck", "--metrics", maddr); code != 1 {
		t.Errorf("healthcheck of a stopped server: exit %d: %s", code, out)
	}
}

func TestHealthcheckExitStatus(t *testing.T) {
	status := http.StatusServiceUnavailable
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, "not ready: store: database not open\n")
	}))
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	if code, out := runCLI(t, nil, "healthcheck", "--metrics", addr); code != 1 || !strings.Contains(out, "503 Service Unavailable: not ready: store") {
		t.Errorf("not ready: exit %d: %s", code, out)
	}
	status = http.StatusOK
	if code, out := runCLI(t, nil, "healthcheck", "--metrics", addr); code != 0 {
		t.Errorf("ready: exit %d: %s", code, out)
	}
	if code, out := runCLI(t, nil, "healthcheck", "--url", "ftp://"+addr); code != 2 {
		t.Errorf("bad url: exit %d: %s", code, out)
	}
	if code, out := runCLI(t, nil, "healthcheck"); code != 2 || !strings.Contains(out, "no address") {
		t.Errorf("no address: exit %d: %s", code, out)
	}
}

// TestLogFormatAuto checks the default format follows stderr: JSON when
// it is not a terminal, console when it is; --log-format overrides.
func TestLogFormatAuto(t *testing.T) {
	for _, c := range []struct {
		terminal bool
		flag     string
		want     string
	}{{false, "auto", "json"}, {true, "auto", "console"}, {true, "json", "json"}, {false, "console", "console"}, {false, "", "json"}} {
		e := &env{stderrTerminal: func() bool { return c.terminal }}
		if got := resolveLogFormat(e, c.flag); got != c.want {
			t.Errorf("terminal %v, --log-format %q: %q, want %q", c.terminal, c.flag, got, c.want)
		}
	}
}

// TestServeRefusesNewerDatabase: an older ldapd refuses a data file written
// by a newer one, with a message that says what to do, and leaves it alone.
func TestServeRefusesNewerDatabase(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, "ldapd.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"info", "entries", "dn2id", "idx", "meta", "seq"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("info")).Put([]byte("version"), binary.BigEndian.AppendUint64(nil, 99))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	code, out := runCLI(t, nil, "serve", "--data", data, "--domain", "idm.example.com", "--ldaps", "127.0.0.1:0", "--ldap", "")
	if code != 1 || !strings.Contains(out, "the database has layout version 99 but this ldapd supports up to 3; run a newer ldapd or restore a backup") {
		t.Errorf("serve on a newer file: exit %d:\n%s", code, out)
	}
}

// TestDrainPeriod: at shutdown /readyz answers 503 for --drain-period
// while LDAPS still accepts connections, and only then do the listeners
// close (issue #19 item 9).
func TestDrainPeriod(t *testing.T) {
	dir := t.TempDir()
	maddr, laddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
	logs := &logWatch{want: `"message":"serving"`, seen: make(chan struct{})}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs,
		getenv: func(k string) string { return map[string]string{"LDAPD_DRAIN_PERIOD": "1500ms"}[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		done <- run(ctx, e, []string{"serve", "--data", filepath.Join(dir, "data"), "--domain", "idm.example.com",
			"--ldaps", laddr, "--ldap", "", "--metrics", maddr, "--log-format", "json"})
	}()
	logs.waitServing(t, done)
	readyz := func() int {
		res, err := http.Get("http://" + maddr + "/readyz")
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := readyz(); code != 200 {
		t.Fatalf("/readyz before shutdown = %d", code)
	}
	start := time.Now()
	cancel()
	for readyz() != http.StatusServiceUnavailable {
		if time.Since(start) > time.Second {
			t.Fatal("/readyz did not turn 503 within 1 s of the shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c, err := net.DialTimeout("tcp", laddr, time.Second); err != nil {
		t.Errorf("LDAPS refused during the drain period: %v", err)
	} else {
		c.Close()
	}
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs)
	}
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Errorf("serve exited %v after the shutdown began, before the 1.5 s drain period", took)
	}
	if !strings.Contains(logs.String(), `"drain_period":1500`) {
		t.Errorf("the drain is not logged:\n%s", logs)
	}
}
