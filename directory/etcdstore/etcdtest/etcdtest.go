// Package etcdtest starts real etcd members in-process, on loopback ports
// and in temporary directories, for the tests of etcdstore and of an ldapd
// cluster: go.etcd.io/etcd/server/v3/embed, the server etcd itself runs.
//
// # Basics
//
// Start(t, n, opts) starts an n-member cluster and returns once every
// member is ready (or fails the test after Options.Timeout); t.Cleanup
// stops the members still running. Client returns a client of all members,
// closed by t.Cleanup. Member.Stop closes one member gracefully; with
// Options.Subprocess the members are child processes and Member.Kill
// SIGKILLs one, as a crash would, to test failover.
//
// # Caveats
//
// Only tests should import this package. Ports are found by binding
// 127.0.0.1:0 and closing the listener before etcd binds them, so another
// process could take one in between; on a test machine that is rare, and
// the start then fails loudly rather than hanging.
package etcdtest

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/ldapd/ldapd/internal/proctest"
)

// Options configures Start. The zero value gives etcd's default limits.
type Options struct {
	// MaxTxnOps and MaxRequestBytes are the members' --max-txn-ops and
	// --max-request-bytes; zero keeps etcd's defaults (128, 1.5 MiB).
	MaxTxnOps       uint
	MaxRequestBytes uint
	// NoFsync turns fsync off (--unsafe-no-fsync): faster, for tests whose
	// members never crash.
	NoFsync bool
	// Timeout bounds the wait for the members to be ready; zero means 30s.
	Timeout time.Duration
	// Subprocess runs each member as a child process (the member command
	// beside this package, built by Start), so that Member.Kill can
	// SIGKILL it like a crash; in-process members cannot be killed.
	Subprocess bool
}

// Member is one running etcd member.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	etcd      *embed.Etcd // in-process member
	proc      *exec.Cmd   // subprocess member
	exited    chan struct{}
	stopOnce  sync.Once
}

// Stop closes the member gracefully (SIGTERM for a subprocess). Stopping
// twice is harmless.
func (m *Member) Stop() {
	m.stopOnce.Do(func() {
		if m.proc == nil {
			m.etcd.Close()
			return
		}
		proctest.Stop(m.proc.Process, m.exited, 10*time.Second)
	})
}

// Kill ends a subprocess member with SIGKILL, as a crash would: no leader
// transfer, no goodbye to its peers, no flush. It panics for an
// in-process member (start the cluster with Options.Subprocess).
func (m *Member) Kill() {
	if m.proc == nil {
		panic("etcdtest: Kill needs Options.Subprocess")
	}
	m.stopOnce.Do(func() {
		_ = m.proc.Process.Kill()
		<-m.exited
	})
}

// Cluster is a running etcd cluster.
type Cluster struct {
	Members []*Member
}

// Endpoints returns the client URLs of every member.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.Members))
	for i, m := range c.Members {
		out[i] = m.ClientURL
	}
	return out
}

// Start starts an n-member cluster; t.Cleanup stops it.
func Start(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	// The members' addresses are free ports found by listening and
	// closing; another process (a parallel test binary's client
	// connection, say) can take one before etcd binds it. Those starts
	// are tried again on fresh addresses, a few times.
	for attempt := 1; ; attempt++ {
		c, err := start(t, n, opts)
		if err == nil {
			t.Cleanup(c.stop)
			return c
		}
		inUse := errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
		if !inUse || attempt == 3 {
			t.Fatalf("etcdtest: %v", err)
		}
		t.Logf("etcdtest: %v; again on other ports", err)
	}
}

// start starts a cluster on fresh addresses; on an error it has stopped
// whatever it started.
func start(t testing.TB, n int, opts Options) (*Cluster, error) {
	t.Helper()
	c := &Cluster{}
	var initial []string
	for i := range n {
		m := &Member{Name: fmt.Sprintf("m%d", i), ClientURL: "http://" + proctest.FreeAddr(t), PeerURL: "http://" + proctest.FreeAddr(t)}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	dir := t.TempDir()
	if opts.Subprocess {
		startSubprocesses(t, c, dir, strings.Join(initial, ","), opts)
		return c, nil
	}
	for _, m := range c.Members {
		cfg := embed.NewConfig()
		cfg.Name = m.Name
		cfg.Dir = filepath.Join(dir, m.Name)
		cu, pu := mustURL(t, m.ClientURL), mustURL(t, m.PeerURL)
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = "ldapd-test"
		cfg.LogLevel = "error"
		cfg.LogOutputs = []string{filepath.Join(dir, m.Name+".log")}
		cfg.UnsafeNoFsync = opts.NoFsync
		if opts.MaxTxnOps != 0 {
			cfg.MaxTxnOps = opts.MaxTxnOps
		}
		if opts.MaxRequestBytes != 0 {
			cfg.MaxRequestBytes = opts.MaxRequestBytes
		}
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("start member %s: %w", m.Name, err)
		}
		m.etcd = e
	}
	deadline := time.After(opts.Timeout)
	for _, m := range c.Members {
		select {
		case <-m.etcd.Server.ReadyNotify():
		case err := <-m.etcd.Err():
			c.stop()
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		case <-deadline:
			c.stop()
			return nil, fmt.Errorf("member %s not ready after %v", m.Name, opts.Timeout)
		}
	}
	return c, nil
}

func (c *Cluster) stop() {
	for _, m := range c.Members {
		if m.etcd != nil || m.proc != nil {
			m.Stop()
		}
	}
}

// startSubprocesses builds the member command and starts one process per
// member, returning once each has printed "ready".
func startSubprocesses(t testing.TB, c *Cluster, dir, initial string, opts Options) {
	t.Helper()
	bin := proctest.Build(t, "github.com/ldapd/ldapd/directory/etcdstore/etcdtest/member")
	ready := make(chan error, len(c.Members))
	for _, m := range c.Members {
		cmd := exec.Command(bin, "-name", m.Name, "-dir", filepath.Join(dir, m.Name), "-client", m.ClientURL,
			"-peer", m.PeerURL, "-initial-cluster", initial, "-log", filepath.Join(dir, m.Name+".log"),
			"-max-txn-ops", fmt.Sprint(opts.MaxTxnOps), "-max-request-bytes", fmt.Sprint(opts.MaxRequestBytes),
			fmt.Sprintf("-no-fsync=%v", opts.NoFsync))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			c.stop()
			t.Fatalf("etcdtest: start member %s: %v", m.Name, err)
		}
		m.proc, m.exited = cmd, make(chan struct{})
		go func() { // owns stdout until EOF; the process is joined below
			sc := bufio.NewScanner(stdout)
			ok := false
			for sc.Scan() {
				if sc.Text() == "ready" && !ok {
					ok = true
					ready <- nil
				}
			}
			if !ok {
				ready <- fmt.Errorf("member %s exited before it was ready", m.Name)
			}
			_ = cmd.Wait()
			close(m.exited)
		}()
	}
	deadline := time.After(opts.Timeout)
	for range c.Members {
		select {
		case err := <-ready:
			if err != nil {
				c.stop()
				t.Fatalf("etcdtest: %v", err)
			}
		case <-deadline:
			c.stop()
			t.Fatalf("etcdtest: members not ready after %v", opts.Timeout)
		}
	}
}

// Client returns a client of every member; t.Cleanup closes it.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return c.ClientOf(t, c.Endpoints()...)
}

// ClientOf returns a client of the given endpoints; t.Cleanup closes it.
func (c *Cluster) ClientOf(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	// The client logs each retried read at warn level (a serializable read
	// that reached a member behind the snapshot, a leader change); the
	// store handles those, so only errors are worth a line.
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func mustURL(t testing.TB, s string) url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}
