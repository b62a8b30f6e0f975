package etcdstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// Every key lives under Options.Prefix (P below, default "/ldapd/"), so
// that one etcd cluster can hold several directories and nothing else is
// touched. Every key format is listed here and nowhere else; the helpers
// below and indexdef's index keys are the only code that builds or parses
// keys.
//
//	P "info/version"  -> uint64 BE: the layout version (layoutVersion).
//	P "info/indexes"  -> the indexed attribute names, sorted, '\n'-joined.
//	                     Open refuses a store built with another index set.
//	P "e/" id         -> encoded entry (directory/internal/entrycodec). id is 8 random bytes
//	                     (uint64 BE, never 0): random rather than drawn from
//	                     a counter, because a counter key would make every
//	                     pair of concurrent Adds conflict.
//	P "n/" entrycodec.DNKey(dn)  -> id. dnKey is boltstore's: the DN's RDN norms,
//	                     rightmost (suffix) first, joined by 0x00, so the
//	                     subtree of dn is the keys with prefix entrycodec.DNKey(dn)+0x00.
//	P "i/" attr "/" rest
//	                  -> empty. Index keys of the indexed attribute attr
//	                     (canonical schema name); rest is one of
//	                     directory/internal/indexdef's keys, which builds
//	                     and parses them for both stores:
//	                       '=' norm 0x00 id, '#' sha256(norm) 0x00 id
//	                                         equality
//	                       '*' id            presence
//	                       '!' id            overflow: the entry has more
//	                                         values of attr than are indexed
//	                                         one by one (see index.go); an
//	                                         equality lookup on attr always
//	                                         adds these ids as candidates.
//	                     The id is always the last 8 bytes of a key.
//	P "m/" key        -> value (ReadTx.Meta, WriteTx.SetMeta).
//	P "s/" name       -> uint64 BE: the last value drawn by NextSequence.
//	P "g"             -> the commit fence: every committing Update puts it,
//	                     so its ModRevision is the revision of the latest
//	                     commit. An Update that read more keys and ranges
//	                     than a Txn may hold compares checks it instead
//	                     (tx.go guards): serializable against every
//	                     concurrent commit.
//
// A transaction writes all its keys in one etcd Txn, so no write order
// matters for crash safety: etcd applies all of it or none of it.
const (
	keyVersion = "info/version"
	keyIndexes = "info/indexes"
	nsEntry    = "e/"
	nsDN       = "n/"
	nsIndex    = "i/"
	nsMeta     = "m/"
	nsSeq      = "s/"
	keyFence   = "g"
)

// layoutVersion is the version of the layout above.
const layoutVersion = 1

// idLen is the length of an encoded entry id.
const idLen = indexdef.IDLen

// keys builds the keys of one store (its prefix).
type keys struct{ prefix string }

func (k keys) version() string { return k.prefix + keyVersion }
func (k keys) indexes() string { return k.prefix + keyIndexes }
func (k keys) fence() string   { return k.prefix + keyFence }
func (k keys) all() string     { return k.prefix }

func (k keys) entry(id uint64) string {
	b := make([]byte, 0, len(k.prefix)+len(nsEntry)+idLen)
	b = append(b, k.prefix...)
	b = append(b, nsEntry...)
	return string(binary.BigEndian.AppendUint64(b, id))
}

func (k keys) entries() string { return k.prefix + nsEntry }

func (k keys) dn(dnKey []byte) string { return k.prefix + nsDN + string(dnKey) }

// dnSpace is the prefix of every dn key.
func (k keys) dnSpace() string { return k.prefix + nsDN }

func (k keys) meta(name string) string { return k.prefix + nsMeta + name }
func (k keys) seq(name string) string  { return k.prefix + nsSeq + name }

// index is the prefix of the index keys of attr.
func (k keys) index(attr string) string { return k.prefix + nsIndex + attr + "/" }

// indexSpace is the prefix of every index key.
func (k keys) indexSpace() string { return k.prefix + nsIndex }

func parseID(b []byte) (uint64, error) {
	if len(b) != idLen {
		return 0, fmt.Errorf("entry id of %d bytes, want %d", len(b), idLen)
	}
	return binary.BigEndian.Uint64(b), nil
}

func idBytes(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, idLen), id) }

// ErrUnsupportedVersion is returned by Open for a store written by a newer
// ldapd, whose layout this code does not know.
var ErrUnsupportedVersion = errors.New("unsupported etcd layout version")

// ErrIndexMismatch is returned by Open when the store was built with
// another index set: reindexing a shared store is not done implicitly.
var ErrIndexMismatch = errors.New("etcd store was built with another index set")

// ErrTxnTooLarge is wrapped (with directory.ErrAdminLimitExceeded) by the
// error Update returns when the transaction's writes do not fit in one etcd
// Txn (Options.MaxTxnOps, Options.MaxTxnBytes). Nothing was written.
var ErrTxnTooLarge = errors.New("transaction too large for one etcd txn")

func decodeVersion(raw []byte) (uint64, error) {
	if len(raw) != 8 {
		return 0, fmt.Errorf("layout version key is %d bytes", len(raw))
	}
	v := binary.BigEndian.Uint64(raw)
	if v == 0 {
		return 0, errors.New("layout version 0")
	}
	if v > layoutVersion {
		return 0, fmt.Errorf("%w: the store has layout version %d but this ldapd supports up to %d; run a newer ldapd",
			ErrUnsupportedVersion, v, layoutVersion)
	}
	return v, nil
}
