package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

// session is a signed-in browser. The map of sessions is keyed by the
// SHA-256 of the cookie's id, so the ids themselves are kept nowhere.
type session struct {
	key   [sha256.Size]byte
	csrf  string
	ident idm.Identity
	// stamp is the account's modifyTimestamp at sign-in: a later change
	// (password, disabled flag) moves it and ends the session.
	stamp            string
	created, lastUse time.Time
}

// sessions is the server-side session table. Expired sessions are dropped
// when met and when a new session needs room; no goroutine sweeps.
type sessions struct {
	mu        sync.Mutex
	m         map[[sha256.Size]byte]*session
	idle, max time.Duration
	limit     int
	now       func() time.Time
	rand      io.Reader
}

// randomID returns 32 random bytes, base64url: the session id and the
// CSRF token.
func randomID(r io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// create starts a session for ident and returns its id (for the cookie)
// and the session.
func (t *sessions) create(ident idm.Identity, stamp string) (string, *session, error) {
	id, err := randomID(t.rand)
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomID(t.rand)
	if err != nil {
		return "", nil, err
	}
	now := t.now()
	s := &session{key: sha256.Sum256([]byte(id)), csrf: csrf, ident: ident, stamp: stamp, created: now, lastUse: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= t.limit {
		t.sweep(now)
		if len(t.m) >= t.limit {
			return "", nil, errorf(503, "too many people are signed in; try again later")
		}
	}
	t.m[s.key] = s
	return id, s, nil
}

// sweep drops expired sessions; t.mu is held.
func (t *sessions) sweep(now time.Time) {
	for k, s := range t.m {
		if t.expired(s, now) {
			delete(t.m, k)
		}
	}
}

func (t *sessions) expired(s *session, now time.Time) bool {
	return !now.Before(s.lastUse.Add(t.idle)) || !now.Before(s.created.Add(t.max))
}

// use returns the live session of the cookie id and marks it used; an
// expired one is dropped.
func (t *sessions) use(id string) (*session, bool) {
	key := sha256.Sum256([]byte(id))
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if !ok {
		return nil, false
	}
	if t.expired(s, now) {
		delete(t.m, key)
		return nil, false
	}
	s.lastUse = now
	return s, true
}

// end drops one session.
func (t *sessions) end(s *session) {
	t.mu.Lock()
	delete(t.m, s.key)
	t.mu.Unlock()
}

// endAccount drops every session of the account dn (its password changed).
func (t *sessions) endAccount(dn directory.DN) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, s := range t.m {
		if s.ident.DN.Equal(dn) {
			delete(t.m, k)
		}
	}
}

// checkCSRF compares the header's token with the session's in constant
// time.
func (s *session) checkCSRF(header string) bool {
	return header != "" && subtle.ConstantTimeCompare([]byte(header), []byte(s.csrf)) == 1
}
