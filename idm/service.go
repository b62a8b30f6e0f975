package idm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

// Config wires a Service. Store, Domain and Keys are required.
type Config struct {
	Store directory.Store
	// Schema defaults to directory.Builtin().
	Schema *directory.Schema
	// Domain is the DNS domain the directory serves, e.g. idm.example.com.
	Domain string
	// BaseDN is the directory suffix a new directory gets (e.g. o=idm,
	// Kanidm's set-ldap-basedn); empty: derived from Domain. It is fixed
	// at first start, like the domain: a store remembers its base, and a
	// different BaseDN for it is refused with ErrDomainMismatch.
	BaseDN string
	// AnonymousRead is what anonymous clients may read (zero value:
	// acl.AnonymousPublic, docs/design.md section 4).
	AnonymousRead acl.AnonymousRead
	// Keys sign and verify API tokens.
	Keys *tokens.Keyring
	// Hasher hashes passwords; nil means argon2id with default parameters.
	Hasher *password.Hasher
	// Logger receives security events (failed binds and their causes,
	// token issue and revocation). Secrets are never logged.
	Logger zerolog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness source; nil means crypto/rand.
	Rand io.Reader
	// RootDSE lists what the protocol front end supports, for the root DSE.
	Extensions, Controls []string
	// VendorVersion is shown in the root DSE.
	VendorVersion string
	// MaxSizeLimit caps the entries one search returns (0: 10000).
	MaxSizeLimit int
	// MaxTokensPerAccount caps the API token records of one service
	// account: GenerateToken past it answers adminLimitExceeded (0: 500).
	MaxTokensPerAccount int
	// ImportChunk is how many entries Import adds per write transaction
	// (0: 2000 per Add transaction, or 16,384 per bulk load for a store
	// with one, boltstore). Stores with small transactions (etcd) want
	// fewer.
	ImportChunk int
	// ImportChunkBytes, if positive, also ends a bulk load's chunk once its
	// entries' estimated memory reaches it (import --max-memory).
	ImportChunkBytes int64
	// ImportSpoolDir, if set, is where Import spools the prepared entries
	// of a file too large to keep in memory, for a store with bulk loads
	// (import_spool.go); "": such a file is read twice.
	ImportSpoolDir string
	// UIDRange and GIDRange are where uidNumber and gidNumber are allocated
	// for entries that gain posixAccount or posixGroup without one (zero
	// value: DefaultIDRange).
	UIDRange, GIDRange IDRange
	// Events, if set, is told of failed binds and token issue and
	// revocation (metrics); nil: nothing is reported.
	Events Events
	// Throttle bounds failed-bind guessing per account and client address
	// (zero value: safe defaults; see ThrottleConfig).
	Throttle ThrottleConfig
	// PasswordCacheTTL is how long a successful password verification is
	// remembered, so that the same account binding with the same password
	// skips argon2id (bindcache.go; 0: DefaultPasswordCacheTTL, negative:
	// never). PasswordCacheSize bounds the accounts remembered (0:
	// DefaultPasswordCacheSize, negative: none).
	PasswordCacheTTL  time.Duration
	PasswordCacheSize int
}

// Service is the identity core. It is safe for concurrent use.
type Service struct {
	store    directory.Store
	schema   *directory.Schema
	domain   string
	base     directory.DN
	policy   *acl.Policy
	issuer   *tokens.Issuer
	verifier *tokens.Verifier
	hasher   *password.Hasher
	log      zerolog.Logger
	now      func() time.Time
	rand     io.Reader
	cfg      Config
	throttle *throttle
	// dummy is a hash of a random password, verified when a bind names no
	// usable account so that it costs as much as a wrong password.
	dummyOnce sync.Once
	dummy     string
	norms     dnNorms     // memoized memberOf normalization (groupset.go)
	tokens    tokenStates // token binds' reads, per store version (memo.go)
	searches  sync.Pool   // *searchRun, the memory of searches (search.go)
	views     sync.Pool   // *viewRun (view)

	// passwords remembers successful password verifications (nil: off).
	passwords *passwordCache
	// verifications counts full password verifications, dummy ones
	// included (tests).
	verifications atomic.Int64

	// versioned is the store's directory.Versioned (also through a
	// wrapper, see directory.As), found once: nil when it has none.
	versioned directory.Versioned
}

// New returns a Service for cfg. It reads only the base DN a store was
// created with (so that every command serves the directory under the base
// fixed at its first start); call Bootstrap before serving.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil {
		return nil, errors.New("idm: Store and Keys are required")
	}
	base, err := BaseDN(cfg.Domain)
	if err != nil {
		return nil, err
	}
	if cfg.BaseDN != "" {
		if base, err = ParseBaseDN(cfg.BaseDN); err != nil {
			return nil, err
		}
	}
	stored, err := storedBase(cfg.Store)
	switch {
	case err != nil:
		return nil, err
	case !stored.IsRoot() && cfg.BaseDN != "" && !stored.Equal(base):
		return nil, fmt.Errorf("%w: the data directory was created with base DN %q; refusing to serve it as %q (the base DN is fixed at first start)",
			ErrDomainMismatch, stored, base)
	case !stored.IsRoot():
		base = stored
	}
	if cfg.Schema == nil {
		cfg.Schema = directory.Builtin()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(password.DefaultParams(), cfg.Rand, 0)
	}
	if cfg.MaxSizeLimit <= 0 {
		cfg.MaxSizeLimit = 10000
	}
	if cfg.MaxTokensPerAccount <= 0 {
		cfg.MaxTokensPerAccount = DefaultMaxTokensPerAccount
	}
	s := &Service{
		store: cfg.Store, schema: cfg.Schema, domain: strings.ToLower(cfg.Domain), base: base,
		policy: acl.NewPolicy(base), hasher: cfg.Hasher, log: cfg.Logger, now: cfg.Now, rand: cfg.Rand, cfg: cfg,
	}
	s.policy.AnonymousRead = cfg.AnonymousRead
	if v, ok := directory.As[directory.Versioned](cfg.Store); ok {
		s.versioned = v
	}
	s.throttle = newThrottle(cfg.Throttle, cfg.Now)
	if s.passwords, err = newPasswordCache(cfg.PasswordCacheTTL, cfg.PasswordCacheSize, cfg.Now); err != nil {
		return nil, fmt.Errorf("idm: password cache key: %w", err)
	}
	s.issuer = &tokens.Issuer{Keys: cfg.Keys, Rand: cfg.Rand, Now: cfg.Now}
	s.verifier = &tokens.Verifier{Keys: cfg.Keys, Now: cfg.Now}
	return s, nil
}

// BaseDN derives the directory suffix from a DNS domain:
// idm.example.com gives dc=idm,dc=example,dc=com.
func BaseDN(domain string) (directory.DN, error) {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(domain, ".")), ".")
	if domain == "" || len(labels) < 1 {
		return directory.DN{}, fmt.Errorf("invalid domain %q: want a DNS name such as idm.example.com", domain)
	}
	var dn directory.DN
	for i := len(labels) - 1; i >= 0; i-- {
		l := labels[i]
		if l == "" || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return directory.DN{}, fmt.Errorf("invalid domain %q: label %q is not a DNS label", domain, l)
		}
		dn = dn.Child(directory.NewRDN(directory.AVA{Type: "dc", Value: l}))
	}
	return dn, nil
}

// ParseBaseDN parses a base DN given at first start (--base-dn): its
// first RDN must be one dc=, o= or ou= value, the classes (domain,
// organization, organizationalUnit) the base entry is made of.
func ParseBaseDN(s string) (directory.DN, error) {
	dn, err := directory.ParseDN(s)
	if err != nil {
		return directory.DN{}, fmt.Errorf("invalid base DN %q: %w", s, err)
	}
	if avas := dn.RDN().AVAs(); len(avas) != 1 || baseClass(avas[0].Type) == "" {
		return directory.DN{}, fmt.Errorf("invalid base DN %q: want its first RDN to be dc=, o= or ou=, e.g. o=idm or dc=idm,dc=example,dc=com", s)
	}
	return dn, nil
}

// baseClass is the structural class of a base entry named typ=value.
func baseClass(typ string) string {
	switch strings.ToLower(typ) {
	case "dc":
		return "domain"
	case "o":
		return "organization"
	case "ou":
		return "organizationalUnit"
	}
	return ""
}

// metaBaseDN records the base DN of the directory, fixed at first start.
// A store bootstrapped before it existed has its base from the domain.
const metaBaseDN = "basedn"

// storedBase reads the base DN fixed at first start, the root DN if none.
func storedBase(store directory.Store) (directory.DN, error) {
	var dn directory.DN
	err := store.View(context.Background(), func(tx directory.ReadTx) error {
		v, err := tx.Meta(metaBaseDN)
		if errors.Is(err, directory.ErrMetaNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		dn, err = directory.ParseDN(string(v))
		return err
	})
	if err != nil {
		return directory.DN{}, fmt.Errorf("read the stored base DN: %w", err)
	}
	return dn, nil
}

// Base returns the directory suffix.
func (s *Service) Base() directory.DN { return s.base }

// Domain returns the DNS domain.
func (s *Service) Domain() string { return s.domain }

// Schema returns the schema in force.
func (s *Service) Schema() *directory.Schema { return s.schema }

// Policy returns the access policy.
func (s *Service) Policy() *acl.Policy { return s.policy }

// Identity is what a bind established. The zero value is anonymous.
type Identity struct {
	Kind acl.SubjectKind
	// DN is the bound account (Kind == acl.Account).
	DN directory.DN
	// Token is set when the bind used an API token.
	Token     bool
	TokenID   tokens.ID
	ReadWrite bool
	// tokenAccount is the entryUUID of the account the token names (its
	// signed claim), checked again at every operation.
	tokenAccount [16]byte
	// memo holds the subject this identity last derived (memo.go); nil for
	// identities not made by a bind, which then derive on every operation.
	memo *subjectMemo
	// desc and authz, when set, are what String and WhoAmI return (a
	// token bind's, made once per token state: tokenState).
	desc, authz string
}

// RootIdentity is the identity of the local administration socket.
func RootIdentity() Identity { return Identity{Kind: acl.Root} }

// String describes the identity for logs (never a secret).
func (id Identity) String() string {
	switch id.Kind {
	case acl.Anonymous:
		return "anonymous"
	case acl.Root:
		return "root"
	}
	if id.desc != "" {
		return id.desc
	}
	if id.Token {
		return tokenIdentityString(id.DN, id.TokenID)
	}
	return id.DN.String()
}

// tokenIdentityString is String of an identity bound with token id to
// the account dn.
func tokenIdentityString(dn directory.DN, id tokens.ID) string {
	return dn.String() + " (token " + id.String() + ")"
}

// IsAnonymous reports whether id is the anonymous identity.
func (id Identity) IsAnonymous() bool { return id.Kind == acl.Anonymous }

// subject re-derives the acting subject from the store: the account must
// still exist and be enabled, a token's record must still exist and be
// unexpired, and group memberships are read fresh. Any failure for a bound
// identity is ErrInvalidCredentials: the client must bind again. It also
// returns the token's expiry (zero: none), the one input not in the store.
func (s *Service) subject(ctx context.Context, tx directory.ReadTx, id Identity) (acl.Subject, time.Time, error) {
	switch id.Kind {
	case acl.Anonymous:
		return acl.Subject{Kind: acl.Anonymous}, time.Time{}, nil
	case acl.Root:
		return acl.Subject{Kind: acl.Root}, time.Time{}, nil
	}
	acct, err := tx.Get(id.DN)
	if err != nil {
		s.security(ctx, "bound account is gone", id, err)
		return acl.Subject{}, time.Time{}, invalidSession()
	}
	if disabled(acct) || !s.policy.IsAccount(acct) {
		s.security(ctx, "bound account is disabled or no longer an account", id, nil)
		return acl.Subject{}, time.Time{}, invalidSession()
	}
	sub := acl.Subject{Kind: acl.Account, DN: id.DN, Groups: s.norms.groupSet(acct), Token: id.Token}
	var expiry time.Time
	if id.Token {
		// The record is read by key (its DN under the bound account) and
		// must still be a token record there; the account must still be
		// a service account, the one the token was verified against.
		rec, err := s.tokenRecordAt(tx, id.DN, id.TokenID)
		if err == nil && (s.policy.KindOf(acct) != acl.KindServiceAccount || entryUUID(acct) != id.tokenAccount) {
			err = errors.New("the bound service account was replaced")
		}
		if err != nil {
			s.security(ctx, "token revoked since bind", id, err)
			return acl.Subject{}, time.Time{}, invalidSession()
		}
		if rec.Expired(s.now()) {
			s.security(ctx, "token expired since bind", id, nil)
			return acl.Subject{}, time.Time{}, invalidSession()
		}
		sub.ReadOnly = rec.Purpose != tokens.ReadWrite
		expiry = rec.Expiry
	}
	return sub, expiry, nil
}

// memoized returns the subject id derived at the store's current version,
// if it did and it has not expired since.
func (s *Service) memoized(id Identity) (acl.Subject, uint64, bool) {
	ver, versioned := s.storeVersion()
	if !versioned || id.memo == nil {
		return acl.Subject{}, 0, false
	}
	sub, ok := id.memo.get(ver, s.now)
	return sub, ver, ok
}

func invalidSession() error {
	return directory.Errorf(directory.ErrInvalidCredentials, "the credentials of this connection are no longer valid; bind again")
}

func (s *Service) security(ctx context.Context, what string, id Identity, err error) {
	ev := secEvent(ctx, s.log.Warn()).Str("identity", id.String())
	if err != nil {
		ev = ev.AnErr("cause", err)
	}
	ev.Msg(what)
}

func disabled(e *directory.Entry) bool {
	return strings.EqualFold(e.First(directory.AttrAccountDisabled), "TRUE")
}

// view runs fn with a fresh subject for id in one read transaction. The
// subject is fresh when it comes from id's memo too: the memo is used only
// while the store has not changed since it was derived (memo.go).
func (s *Service) view(ctx context.Context, id Identity, fn func(tx directory.ReadTx, sub acl.Subject) error) error {
	v, _ := s.views.Get().(*viewRun)
	if v == nil {
		v = &viewRun{}
		v.inTxFn = v.inTx
	}
	v.s, v.ctx, v.id, v.fn = s, ctx, id, fn
	v.sub, v.ver, v.memoized = s.memoized(id)
	err := s.store.View(ctx, v.inTxFn)
	*v = viewRun{inTxFn: v.inTxFn}
	s.views.Put(v)
	return err
}

// viewRun is one view in progress, kept in Service.views between views:
// its method value is bound once, so that handing it to the store
// allocates nothing.
type viewRun struct {
	s        *Service
	ctx      context.Context
	id       Identity
	fn       func(tx directory.ReadTx, sub acl.Subject) error
	sub      acl.Subject
	ver      uint64
	memoized bool
	inTxFn   func(directory.ReadTx) error
}

func (v *viewRun) inTx(tx directory.ReadTx) error {
	if !v.memoized {
		sub, expiry, err := v.s.subject(v.ctx, tx, v.id)
		if err != nil {
			return err
		}
		// ver was read before this transaction began; without a store
		// version memoized never reads what this puts.
		v.id.memo.put(v.ver, sub, expiry)
		v.sub = sub
	}
	return v.fn(tx, v.sub)
}

// update runs fn with a fresh subject for id in one write transaction.
func (s *Service) update(ctx context.Context, id Identity, fn func(tx directory.WriteTx, sub acl.Subject) error) error {
	return s.store.Update(ctx, func(tx directory.WriteTx) error {
		sub, _, err := s.subject(ctx, tx, id)
		if err != nil {
			return err
		}
		return fn(tx, sub)
	})
}

// Check re-validates id (the per-operation revocation check) without doing
// anything else. It returns ErrInvalidCredentials when id no longer holds.
func (s *Service) Check(ctx context.Context, id Identity) error {
	if _, _, ok := s.memoized(id); ok {
		return nil
	}
	return s.view(ctx, id, func(directory.ReadTx, acl.Subject) error { return nil })
}

func (s *Service) rdn(typ, value string) directory.RDN {
	return directory.NewRDN(directory.AVA{Type: typ, Value: value})
}

func (s *Service) accountName(dn directory.DN) string {
	if v, ok := dn.RDN().Value("uid"); ok {
		return v
	}
	if v, ok := dn.RDN().Value("cn"); ok {
		return v
	}
	return dn.String()
}

// SPN returns name@domain.
func (s *Service) SPN(name string) string { return strings.ToLower(name) + "@" + s.domain }
