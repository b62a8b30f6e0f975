package idm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// Defaults of the password cache (Config.PasswordCacheTTL and
// Config.PasswordCacheSize).
const (
	DefaultPasswordCacheTTL  = 5 * time.Minute
	DefaultPasswordCacheSize = 10000
)

// passwordCache remembers successful password verifications, so that an
// application binding as the same person with the same password again and
// again (Apache, Dovecot, PAM) pays argon2id once per TTL rather than on
// every bind. It never remembers a failure: a wrong password, a first bind
// and a bind after any change to the account are full verifications.
//
// A record is, per account DN, an HMAC-SHA256 under a per-process random
// key of (account DN, entryUUID, modifyTimestamp, stored hash value,
// password). A bind hits only if the MAC of what it reads now, in its own
// read transaction, and the password it was given equals the record: a new
// password, a rehash, a rename, a delete and re-add (new entryUUID) or any
// other change to the entry (modifyTimestamp) changes the input and misses. A disabled or deleted account never reaches the cache (the bind
// refuses it first) and its record is dropped. Records expire after ttl;
// at most max are kept, a random one evicted when full. The key is drawn
// from crypto/rand when the service starts and never leaves the process;
// memory holds MACs, never passwords (docs/security.md, "Repeated password
// binds").
type passwordCache struct {
	ttl time.Duration
	max int
	now func() time.Time
	// macs holds HMAC states keyed with the process key, reused to save
	// the two key-block compressions a new one costs.
	macs sync.Pool

	mu      sync.Mutex
	records map[string]passwordRecord
}

type passwordRecord struct {
	mac     [sha256.Size]byte
	expires time.Time
}

// newPasswordCache returns a cache of at most max records kept for ttl, or
// nil (no caching) when either is negative.
func newPasswordCache(ttl time.Duration, max int, now func() time.Time) (*passwordCache, error) {
	if ttl < 0 || max < 0 {
		return nil, nil
	}
	if ttl == 0 {
		ttl = DefaultPasswordCacheTTL
	}
	if max == 0 {
		max = DefaultPasswordCacheSize
	}
	// The key comes from crypto/rand, not Config.Rand: a deterministic
	// test source must not make it predictable, nor shift that source's
	// other draws.
	key := make([]byte, sha256.Size)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	c := &passwordCache{ttl: ttl, max: max, now: now, records: make(map[string]passwordRecord)}
	c.macs.New = func() any { return hmac.New(sha256.New, key) }
	return c, nil
}

// accountState is what a bind read about the account, in its own read
// transaction, that a cached verification is tied to.
type accountState struct {
	dn       string // normalized
	uuid     string // entryUUID
	modified string // modifyTimestamp
}

// sum computes the MAC of one verification into out. Each field is length
// prefixed, so no two different inputs are the same byte string.
func (c *passwordCache) sum(out *[sha256.Size]byte, a accountState, stored string, pw []byte) {
	m := c.macs.Get().(hash.Hash)
	m.Reset()
	var n [4]byte
	for _, f := range [...]string{a.dn, a.uuid, a.modified, stored} {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	binary.BigEndian.PutUint32(n[:], uint32(len(pw)))
	m.Write(n[:])
	m.Write(pw)
	m.Sum(out[:0])
	c.macs.Put(m)
}

// hit reports whether pw was verified for the account in state a against
// one of the stored hash values less than ttl ago. It compares in constant
// time against every stored value.
func (c *passwordCache) hit(a accountState, stored []string, pw []byte) bool {
	if c == nil {
		return false
	}
	now := c.now()
	c.mu.Lock()
	rec, ok := c.records[a.dn]
	if ok && !now.Before(rec.expires) {
		delete(c.records, a.dn)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return false
	}
	var sum [sha256.Size]byte
	match := 0
	for _, h := range stored {
		c.sum(&sum, a, h, pw)
		match |= subtle.ConstantTimeCompare(sum[:], rec.mac[:])
	}
	return match == 1
}

// remember records that pw verified against stored for the account in
// state a.
func (c *passwordCache) remember(a accountState, stored string, pw []byte) {
	if c == nil {
		return
	}
	rec := passwordRecord{expires: c.now().Add(c.ttl)}
	c.sum(&rec.mac, a, stored, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.records[a.dn]; !ok && len(c.records) >= c.max {
		for k := range c.records { // map order is random: a random eviction
			delete(c.records, k)
			break
		}
	}
	c.records[a.dn] = rec
}

// forget drops the account's record (it was found disabled, gone or not
// an account).
func (c *passwordCache) forget(dn string) {
	if c == nil || dn == "" {
		return
	}
	c.mu.Lock()
	delete(c.records, dn)
	c.mu.Unlock()
}

// len is the number of records (tests).
func (c *passwordCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.records)
}
