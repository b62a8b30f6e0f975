// Package stacktest runs the whole ldapd stack on loopback for tests: a
// bbolt store in a temporary directory, the identity core, the gateway and
// the protocol front end (via ldaptest), with an injectable clock and the
// built-in accounts' passwords set. Tests drive it with the go-ldap client
// and with OpenLDAP's command-line tools (Tool).
//
// Only tests should import this package.
package stacktest

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/ldaptest"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

// Domain and Base are the stack's domain and suffix.
const (
	Domain = "idm.example.com"
	Base   = "dc=idm,dc=example,dc=com"
)

// Clock is an injectable time source for expiry tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleep is the failed-bind throttle's wait: it moves the clock forward by
// d at once instead of sleeping, so that tests measure throttle delays on
// the clock without waiting for them.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Stack is the whole server on loopback.
type Stack struct {
	*ldaptest.Server
	IDM        *idm.Service
	Store      directory.Store
	Clock      *Clock
	AdminPW    string // admin (system_admins)
	IDMAdminPW string // idm_admin (idm_admins)
	path       string
	keys       *tokens.Keyring
	logs       *logBuffer
	opts       []Option
	idmOpt     func(*idm.Config)
}

// Option adjusts the protocol server before it starts (limits, timeouts),
// at New and at every Restart.
type Option func(*ldapserver.Server)

// logBuffer keeps everything the server logged, for tests that check what
// the log says (or never says).
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

// Logs returns everything the server has logged so far (JSON lines).
func (s *Stack) Logs() string {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	return s.logs.buf.String()
}

// logWriter records server logs and sends them to the test log only when
// -v is given.
type logWriter struct {
	t    testing.TB
	logs *logBuffer
}

func (w logWriter) Write(p []byte) (int, error) {
	w.logs.mu.Lock()
	w.logs.buf.Write(p)
	w.logs.mu.Unlock()
	if testing.Verbose() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// New starts a stack; t.Cleanup stops it.
func New(t testing.TB, opts ...Option) *Stack { return NewConfigured(t, nil, opts...) }

// NewConfigured starts a stack whose idm.Config idmOpt adjusts (at New and
// at every Restart) before the service is made: anonymous exposure, a base
// DN, ... idmOpt may be nil.
func NewConfigured(t testing.TB, idmOpt func(*idm.Config), opts ...Option) *Stack {
	t.Helper()
	path := t.TempDir() + "/ldapd.db"
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{path: path, keys: keys, Clock: &Clock{t: time.Now()}, logs: &logBuffer{}, opts: opts, idmOpt: idmOpt}
	s.open(t)
	ctx := context.Background()
	if s.AdminPW, err = s.IDM.RecoverAccount(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if s.IDMAdminPW, err = s.IDM.RecoverAccount(ctx, "idm_admin"); err != nil {
		t.Fatal(err)
	}
	return s
}

// open (re)opens the store and starts a server over it.
func (s *Stack) open(t testing.TB) {
	t.Helper()
	store, err := boltstore.Open(s.path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(logWriter{t, s.logs})
	cfg := idm.Config{
		Store: store, Domain: Domain, Keys: s.keys, Logger: log, Now: s.Clock.Now,
		Hasher:     password.NewHasher(password.TestParams(), nil, 0),
		Extensions: gateway.Extensions(), Controls: gateway.Controls(),
		Throttle: idm.ThrottleConfig{Sleep: s.Clock.Sleep},
	}
	if s.idmOpt != nil {
		s.idmOpt(&cfg)
	}
	svc := NewService(t, cfg)
	s.IDM, s.Store = svc, store
	srv := &ldapserver.Server{
		Handler: &gateway.Gateway{IDM: svc}, Controls: gateway.Controls(), Logger: log,
	}
	for _, o := range s.opts {
		o(srv)
	}
	s.Server = ldaptest.NewServer(t, srv)
	t.Cleanup(func() { store.Close() })
}

// Restart stops the server, closes the store and opens both again.
func (s *Stack) Restart(t testing.TB) {
	t.Helper()
	s.Server.Close()
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	s.open(t)
}

// Bind returns an LDAPS client bound as name.
func (s *Stack) Bind(t testing.TB, name, pw string) *ldap.Conn {
	t.Helper()
	c := s.Dial(t)
	if err := c.Bind(name, pw); err != nil {
		t.Fatalf("bind as %s: %v", name, err)
	}
	return c
}

// Admin returns a client bound as admin (system_admins).
func (s *Stack) Admin(t testing.TB) *ldap.Conn { return s.Bind(t, "admin", s.AdminPW) }

// IDMAdmin returns a client bound as idm_admin (idm_admins).
func (s *Stack) IDMAdmin(t testing.TB) *ldap.Conn { return s.Bind(t, "idm_admin", s.IDMAdminPW) }

// Tool runs one of OpenLDAP's command-line clients against the stack and
// returns its combined output and exit status. Tests that need ldap-utils
// fail (not skip) when they are missing: CI installs them.
func (s *Stack) Tool(t testing.TB, stdin string, name string, args ...string) (string, int) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: install ldap-utils (make deps)", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.CAFile, "LDAPTLS_REQCERT=demand", "LDAPRC=/dev/null", "LDAPCONF=/dev/null")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	} else {
		cmd.Stdin = io.NopCloser(strings.NewReader(""))
	}
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return string(out), code
}

// URL is the LDAPS URL with the host name the certificate names, for the
// command-line tools; PlainURL is the same for LDAP with StartTLS.
func (s *Stack) URL() string { return strings.Replace(s.LDAPSURL, "127.0.0.1", "localhost", 1) }

// PlainURL is the LDAP (StartTLS) URL with the certificate's host name.
func (s *Stack) PlainURL() string { return strings.Replace(s.LDAPURL, "127.0.0.1", "localhost", 1) }

// ResultCode returns the LDAP result code of a go-ldap error, 0 for nil
// and 0xffff for an error that carries none.
func ResultCode(err error) uint16 {
	if err == nil {
		return 0
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0xffff
}
