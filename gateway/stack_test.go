package gateway_test

import (
	"context"
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

const (
	domain = "idm.example.com"
	base   = "dc=idm,dc=example,dc=com"
)

// clock is an injectable time source for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stack is the whole server on loopback: bbolt store, identity core,
// gateway and protocol front end.
type stack struct {
	*ldaptest.Server
	IDM        *idm.Service
	Store      directory.Store
	Clock      *clock
	AdminPW    string // admin (system_admins)
	IDMAdminPW string // idm_admin (idm_admins)
	path       string
	keys       *tokens.Keyring
}

// logWriter sends server logs to the test log only when -v is given.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func newStack(t testing.TB) *stack {
	t.Helper()
	path := t.TempDir() + "/ldapd.db"
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{path: path, keys: keys, Clock: &clock{t: time.Now()}}
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
func (s *stack) open(t testing.TB) {
	t.Helper()
	store, err := boltstore.Open(s.path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(logWriter{t})
	svc, err := idm.New(idm.Config{
		Store: store, Domain: domain, Keys: s.keys, Logger: log, Now: s.Clock.Now,
		Hasher:     password.NewHasher(password.TestParams(), nil, 0),
		Extensions: gateway.Extensions(), Controls: gateway.Controls(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.IDM, s.Store = svc, store
	s.Server = ldaptest.NewServer(t, &ldapserver.Server{
		Handler: &gateway.Gateway{IDM: svc}, Controls: gateway.Controls(), Logger: log,
	})
	t.Cleanup(func() { store.Close() })
}

// restart stops the server, closes the store and opens both again.
func (s *stack) restart(t testing.TB) {
	t.Helper()
	s.Server.Close()
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	s.open(t)
}

// bind returns an LDAPS client bound as name.
func (s *stack) bind(t testing.TB, name, pw string) *ldap.Conn {
	t.Helper()
	c := s.Dial(t)
	if err := c.Bind(name, pw); err != nil {
		t.Fatalf("bind as %s: %v", name, err)
	}
	return c
}

func (s *stack) admin(t testing.TB) *ldap.Conn    { return s.bind(t, "admin", s.AdminPW) }
func (s *stack) idmAdmin(t testing.TB) *ldap.Conn { return s.bind(t, "idm_admin", s.IDMAdminPW) }

// tool runs one of OpenLDAP's command-line clients against the stack and
// returns its combined output and exit status. Tests that need ldap-utils
// fail (not skip) when they are missing: CI installs them.
func (s *stack) tool(t testing.TB, stdin string, name string, args ...string) (string, int) {
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
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return string(out), code
}

// ldapsURL uses the host name the generated certificate names.
func (s *stack) ldapsURL() string { return strings.Replace(s.LDAPSURL, "127.0.0.1", "localhost", 1) }
func (s *stack) ldapURL() string  { return strings.Replace(s.LDAPURL, "127.0.0.1", "localhost", 1) }

func resultCode(err error) uint16 {
	var le *ldap.Error
	if err == nil {
		return 0
	}
	if ok := asLDAPError(err, &le); ok {
		return le.ResultCode
	}
	return 0xffff
}

func asLDAPError(err error, target **ldap.Error) bool {
	for err != nil {
		if le, ok := err.(*ldap.Error); ok {
			*target = le
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
