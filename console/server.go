package console

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/idm"
)

// Defaults of Config.
const (
	DefaultIdleTimeout = 15 * time.Minute
	DefaultMaxAge      = 8 * time.Hour
	DefaultMaxSessions = 10000
)

// Config wires a Server. IDM is required.
type Config struct {
	IDM    *idm.Service
	Logger zerolog.Logger
	// Now is the clock (nil: time.Now); Rand the source of session ids and
	// CSRF tokens (nil: crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// IdleTimeout ends a session unused for this long; MaxAge ends any
	// session this long after sign-in (zero: the defaults above).
	IdleTimeout, MaxAge time.Duration
	// MaxSessions bounds the session table (zero: DefaultMaxSessions).
	MaxSessions int
	// LDAPURL is the LDAPS URL shown in the "try it" line under a new
	// token, e.g. ldaps://idm.example.com:3636 ("" leaves -H out).
	LDAPURL string
}

// Server is the console and the JSON API. It is an http.Handler, safe for
// concurrent use; it starts no goroutine.
type Server struct {
	idm      *idm.Service
	log      zerolog.Logger
	now      func() time.Time
	sessions *sessions
	ldapURL  string
	mux      *http.ServeMux
	pages    *pages
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.IDM == nil {
		return nil, errors.New("console: IDM is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		idm: cfg.IDM, log: cfg.Logger, now: cfg.Now, ldapURL: cfg.LDAPURL, pages: pg,
		sessions: &sessions{m: map[[sha256.Size]byte]*session{}, idle: cfg.IdleTimeout, max: cfg.MaxAge,
			limit: cfg.MaxSessions, now: cfg.Now, rand: cfg.Rand},
	}
	s.mux = s.routes()
	return s, nil
}

// routes is the route table: each route one handler.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	// The JSON API.
	m.HandleFunc("POST /v1/login", s.login)
	m.Handle("POST /v1/logout", s.api(s.logout))
	m.Handle("GET /v1/whoami", s.api(s.whoami))
	m.Handle("GET /v1/service-accounts", s.api(s.listServiceAccounts))
	m.Handle("POST /v1/service-accounts", s.api(s.createServiceAccount))
	m.Handle("GET /v1/service-accounts/{name}/api-tokens", s.api(s.listTokens))
	m.Handle("POST /v1/service-accounts/{name}/api-tokens", s.api(s.generateToken))
	m.Handle("DELETE /v1/service-accounts/{name}/api-tokens/{token_id}", s.api(s.destroyToken))
	m.Handle("POST /v1/people", s.api(s.createPerson))
	m.Handle("POST /v1/groups", s.api(s.createGroup))
	m.Handle("POST /v1/groups/{name}/members", s.api(s.addMember))
	m.Handle("POST /v1/password", s.api(s.changePassword))
	m.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such API endpoint: " + r.Method + " " + r.URL.Path})
	})
	// The pages and their files.
	m.HandleFunc("GET /login", s.loginPage)
	m.Handle("GET /{$}", s.page(s.accountsPage))
	m.Handle("GET /account", s.page(s.myAccountPage))
	m.Handle("GET /admin", s.page(s.adminPage))
	m.Handle("GET /assets/", assetHandler())
	return m
}

// ServeHTTP serves every request with the security headers set.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}
