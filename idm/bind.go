package idm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/logfield"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

// TokenBindDN is the bind name that selects token bind ("dn=token", any case).
const TokenBindDN = "dn=token"

// errBind is the one answer every failed bind gets.
func errBind() error {
	return directory.Errorf(directory.ErrInvalidCredentials, "invalid credentials")
}

// Bind authenticates a simple bind. An empty name with an empty password is
// anonymous; the name "dn=token" (or an empty name with a password) takes
// the password as an API token; any other name is an account's DN, bare name
// or spn with its password. Every failure is ErrInvalidCredentials with the
// same message; the log records the cause.
func (s *Service) Bind(ctx context.Context, name string, pw []byte) (Identity, error) {
	switch {
	case name == "" && len(pw) == 0:
		return Identity{}, nil
	case name == "" || strings.EqualFold(strings.ReplaceAll(name, " ", ""), TokenBindDN):
		return s.tokenBind(ctx, string(pw))
	}
	return s.passwordBind(ctx, name, pw)
}

func (s *Service) passwordBind(ctx context.Context, name string, pw []byte) (Identity, error) {
	addr := clientAddrOf(ctx)
	logFail := func(cause string, err error) {
		ev := secEvent(ctx, s.log.Warn()).Str("bind_name", logfield.Clip(name)).Str("cause", passwordCause(cause)).Str("detail", cause)
		if addr != "" {
			ev = ev.Str("client", addr)
		}
		if err != nil {
			ev = ev.AnErr("error", logfield.ClipErr(err))
		}
		ev.Msg("bind failed")
		s.bindFailed(passwordCause(cause))
	}
	if len(pw) == 0 {
		// RFC 4513 5.1.2: an unauthenticated bind; ldapd refuses it.
		logFail("empty password (unauthenticated bind)", nil)
		return Identity{}, directory.Errorf(directory.ErrUnwillingToPerform, "unauthenticated bind (name without password) is not allowed")
	}
	var dn directory.DN
	var hashes []string
	var state accountState
	err := s.store.View(ctx, func(tx directory.ReadTx) error {
		var err error
		if dn, err = s.resolveAccount(tx, name); err != nil {
			return err
		}
		e, err := tx.Get(dn)
		if err != nil {
			return err
		}
		if !s.policy.IsAccount(e) {
			return errNotAccount
		}
		if disabled(e) {
			return errAccountDisabled
		}
		hashes = e.Get("userPassword")
		state.uuid, state.modified = e.First("entryUUID"), e.First("modifyTimestamp")
		return nil
	})
	if errors.Is(err, directory.ErrBusy) {
		// The store cannot answer now (etcd unreachable, a stale view):
		// busy (51), not a failed bind, and nothing counted against anyone.
		return Identity{}, err
	}
	acct := name
	if err == nil || errors.Is(err, errAccountDisabled) {
		acct = dn.Norm()
	}
	if err != nil {
		s.passwords.forget(acct)
	}
	state.dn = acct
	at, terr := s.throttle.admit(ctx, addr, acct)
	if terr != nil {
		logFail(terr.Error(), nil)
		return Identity{}, errBind()
	}
	fail := func(cause string, err error) (Identity, error) {
		at.fail()
		if at.waited > 0 {
			cause += " (after a throttle delay of " + at.waited.String() + ")"
		}
		logFail(cause, err)
		return Identity{}, errBind()
	}
	switch {
	case errors.Is(err, errAccountDisabled):
		s.verifyDummy(ctx, pw)
		return fail("account disabled", nil)
	case errors.Is(err, errNotAccount):
		s.verifyDummy(ctx, pw)
		return fail("no such account (the entry is not a person or service account)", nil)
	case err != nil:
		s.verifyDummy(ctx, pw)
		return fail("no such account", err)
	case len(hashes) == 0:
		s.verifyDummy(ctx, pw)
		return fail("account has no password (set one with ldapd recover-account)", nil)
	}
	// A repeated correct password is answered from the cache of successful
	// verifications (bindcache.go); anything else is a full verification.
	cached := s.passwords.hit(state, hashes, pw)
	if cached || s.verifyStored(ctx, hashes, string(pw), func(h string) {
		if password.NeedsRehash(h) {
			// The store's Modify leaves modifyTimestamp as it was, so the
			// next bind reads state again, with the new value.
			if h = s.rehash(ctx, dn, h, string(pw)); h == "" {
				return
			}
		}
		s.passwords.remember(state, h, pw)
	}) {
		at.succeed()
		if e := s.log.Info(); e.Enabled() {
			secEvent(ctx, e).Str("identity", dn.String()).Bool("cached", cached).Msg("bind succeeded")
		}
		return Identity{Kind: acl.Account, DN: dn, memo: &subjectMemo{}}, nil
	}
	return fail("wrong password", nil)
}

// verifyStored reports whether pw matches one of the stored hashes, and
// calls matched with the hash it matched. An unreadable hash is logged and
// skipped.
func (s *Service) verifyStored(ctx context.Context, hashes []string, pw string, matched func(h string)) bool {
	for _, h := range hashes {
		s.verifications.Add(1)
		err := s.hasher.Verify(ctx, h, pw)
		if err == nil {
			if matched != nil {
				matched(h)
			}
			return true
		}
		if !errors.Is(err, password.ErrMismatch) {
			secEvent(ctx, s.log.Warn()).AnErr("error", err).Msg("stored password unreadable")
		}
	}
	return false
}

// verifyDummy spends what verifying a real password costs, so that a bind
// naming no usable account cannot be told apart by its timing.
func (s *Service) verifyDummy(ctx context.Context, pw []byte) {
	s.dummyOnce.Do(func() {
		var buf [24]byte
		_, _ = io.ReadFull(s.rand, buf[:])
		s.dummy, _ = s.hasher.Hash(context.WithoutCancel(ctx), base64.RawStdEncoding.EncodeToString(buf[:]))
	})
	if s.dummy != "" {
		s.verifications.Add(1)
		_ = s.hasher.Verify(ctx, s.dummy, string(pw))
	}
}

var (
	errAccountDisabled = errors.New("account disabled")
	// errNotAccount: the bind name is an entry that is not an account (a
	// group, an inetOrgPerson outside ou=people, ...); it is answered like
	// an unknown name.
	errNotAccount = errors.New("not an account")
)

// resolveAccount maps a bind name (DN, spn or bare name) to an account DN.
// A DN that is no entry but one of Kanidm's forms (spn=NAME@DOMAIN,
// name=NAME or uid=NAME, alone or under the base DN; uuid=ENTRYUUID)
// names the account with that name, spn or entryUUID. The caller checks
// that the result is an account (acl.Policy.IsAccount).
func (s *Service) resolveAccount(tx directory.ReadTx, name string) (directory.DN, error) {
	if strings.Contains(name, "=") {
		dn, err := directory.ParseDN(name)
		if err != nil {
			return dn, err
		}
		typ, value, ok := s.kanidmRDN(dn)
		if !ok {
			return dn, nil
		}
		if _, err := tx.Get(dn); err == nil {
			return dn, nil
		}
		if typ == "uuid" {
			if real, ok := s.byUUID(tx, value); ok {
				return real, nil
			}
			return dn, nil
		}
		name = value
	}
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		if !strings.EqualFold(name[at+1:], s.domain) {
			return directory.DN{}, directory.Errorf(directory.ErrNoSuchObject, "spn of another domain")
		}
		name = name[:at]
	}
	return s.findAccount(tx, name)
}

// findAccount finds the person or service account whose uid is name: an
// entry the policy calls an account (acl.Policy.IsAccount), so an entry of
// the right class in the wrong place is never found.
func (s *Service) findAccount(tx directory.ReadTx, name string) (directory.DN, error) {
	f := &directory.Filter{Kind: directory.FilterEquality, Attr: "uid", Value: name}
	if err := f.Resolve(s.schema); err != nil {
		return directory.DN{}, err
	}
	var found []directory.DN
	err := tx.Search(s.base, directory.ScopeSub, f, func(e *directory.Entry) error {
		if s.policy.IsAccount(e) {
			found = append(found, e.DN)
		}
		return nil
	})
	if err != nil {
		return directory.DN{}, err
	}
	if len(found) != 1 {
		return directory.DN{}, directory.Errorf(directory.ErrNoSuchObject, "no unique account named "+name)
	}
	return found[0], nil
}

// isAccount is the class-only test the write and import checks still use;
// it does not decide who may bind (acl.Policy.IsAccount does).
func isAccount(e *directory.Entry) bool {
	return hasClass(e, directory.ClassServiceAccount) || hasClass(e, "inetOrgPerson") || hasClass(e, "person") || hasClass(e, "account")
}

func hasClass(e *directory.Entry, class string) bool {
	for _, v := range e.Get("objectClass") {
		if strings.EqualFold(v, class) {
			return true
		}
	}
	return false
}

// tokenBind verifies an API token: signature with a known key, a record
// that still exists, expiry, and an account that exists, is enabled and is
// the one the token names.
func (s *Service) tokenBind(ctx context.Context, token string) (Identity, error) {
	// The token is checked first: one that verifies is never throttled,
	// whatever its address's other clients got wrong. Verification needs
	// no hash slot and a token cannot be guessed, so failures only wait.
	// The check runs one way: tokens parses (pure), idm reads the record
	// and its account by key (the claims' token ID and account UUID), and
	// tokens checks the record against the claims and the clock.
	claims, err := s.verifier.Parse(token)
	var st tokenState
	if err == nil {
		if st, err = s.tokenState(ctx, claims.TokenID, claims.AccountUUID); errors.Is(err, directory.ErrBusy) {
			return Identity{}, err // as in passwordBind: busy, not a failed bind
		} else if err != nil {
			err = fmt.Errorf("token %s: %w: %w", claims.TokenID, tokens.ErrRevoked, err)
		}
	}
	if err == nil {
		err = s.verifier.Check(claims, st.rec)
	}
	if err == nil && st.disabled {
		err = errAccountDisabled
	}
	if err != nil {
		addr := clientAddrOf(ctx)
		waited := s.throttle.tokenFailed(ctx, addr)
		s.logTokenFail(ctx, claims, addr, waited, err)
		return Identity{}, errBind()
	}
	id := Identity{Kind: acl.Account, DN: st.account, Token: true, TokenID: claims.TokenID, ReadWrite: st.rec.Purpose == tokens.ReadWrite,
		tokenAccount: claims.AccountUUID, memo: &subjectMemo{}, desc: st.desc, authz: st.authz}
	if e := s.log.Info(); e.Enabled() {
		secEvent(ctx, e).Str("identity", id.String()).Str("purpose", st.rec.Purpose.String()).Msg("token bind succeeded")
	}
	return id, nil
}

// logTokenFail logs a failed token bind with its cause; claims are those
// Parse returned (zero when the token did not parse: no token ID to log).
func (s *Service) logTokenFail(ctx context.Context, claims tokens.Claims, addr string, waited time.Duration, err error) {
	cause := "malformed"
	switch {
	case errors.Is(err, tokens.ErrBadSignature):
		cause = "bad signature"
	case errors.Is(err, tokens.ErrUnknownKey):
		cause = "unknown signing key"
	case errors.Is(err, tokens.ErrRevoked):
		cause = "revoked"
	case errors.Is(err, tokens.ErrExpired):
		cause = "expired"
	case errors.Is(err, errAccountDisabled):
		cause = "account disabled"
	}
	ev := secEvent(ctx, s.log.Warn()).Str("cause", tokenCause(cause)).Str("detail", cause)
	if addr != "" {
		ev = ev.Str("client", addr)
	}
	if waited > 0 {
		ev = ev.Dur("throttle_delay", waited)
	}
	if claims.TokenID != (tokens.ID{}) {
		ev = ev.Str("token_id", claims.TokenID.String())
	}
	ev.Msg("token bind failed")
	s.bindFailed(tokenCause(cause))
}

// WhoAmI answers RFC 4532: "u: name@domain" for an account, "" for
// anonymous.
func (s *Service) WhoAmI(ctx context.Context, id Identity) (string, error) {
	switch id.Kind {
	case acl.Anonymous:
		return "", nil
	case acl.Root:
		return "dn:", nil
	}
	if err := s.Check(ctx, id); err != nil {
		return "", err
	}
	if id.authz != "" {
		return id.authz, nil
	}
	return s.authzID(id.DN), nil
}

// authzID is WhoAmI's answer for the account dn.
func (s *Service) authzID(dn directory.DN) string { return "u: " + s.SPN(s.accountName(dn)) }
