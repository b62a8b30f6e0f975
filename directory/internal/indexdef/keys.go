package indexdef

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// The index keys of one attribute, as both backends store them (bbolt in
// the attribute's nested bucket, etcd after P "i/" attr "/"):
//
//	'=' norm 0x00 id        equality: norm is the value normalized by the
//	                        attribute's equality rule
//	'#' sha256(norm) 0x00 id
//	                        equality for a norm longer than MaxInlineNorm
//	'*' id                  presence: the entry has the attribute
//	'!' id                  overflow (etcdstore only, see Budget): the
//	                        entry has more values than are indexed one by
//	                        one; an equality lookup also reads these ids
//
// id is the entry id, uint64 big-endian, always the last IDLen bytes.
const (
	PrefixEq       = '='
	PrefixEqHash   = '#'
	PrefixPres     = '*'
	PrefixOverflow = '!'
)

// IDLen is the length of an encoded entry id.
const IDLen = 8

// MaxInlineNorm is the longest normalized value stored verbatim in an
// equality key; longer ones are hashed (bbolt keys are limited to 32 KiB;
// every etcd index key travels in the commit Txn). Candidates found
// through an index are always re-checked with Filter.Match, so a hash
// collision costs a wasted read, never a wrong result.
const MaxInlineNorm = 512

// EqPrefix returns the part of the equality keys of norm that precedes
// the id.
func EqPrefix(norm string) []byte {
	if len(norm) > MaxInlineNorm {
		return appendEqPrefix(make([]byte, 0, 2+sha256.Size+IDLen), norm)
	}
	return appendEqPrefix(make([]byte, 0, len(norm)+2+IDLen), norm)
}

func appendEqPrefix(dst []byte, norm string) []byte {
	if len(norm) > MaxInlineNorm {
		sum := sha256.Sum256([]byte(norm))
		dst = append(dst, PrefixEqHash)
		dst = append(dst, sum[:]...)
	} else {
		dst = append(dst, PrefixEq)
		dst = append(dst, norm...)
	}
	return append(dst, 0)
}

// EqKey is the equality key of norm for entry id.
func EqKey(norm string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(EqPrefix(norm), id)
}

// AppendEqKey appends EqKey(norm, id) to dst, allocating only when dst
// is too small.
func AppendEqKey(dst []byte, norm string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(appendEqPrefix(dst, norm), id)
}

// PresKey is the presence key of entry id.
func PresKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{PrefixPres}, id) }

// OverflowKey is the overflow key of entry id.
func OverflowKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{PrefixOverflow}, id)
}

// KeyID returns the id at the end of index key k and whether k is well
// formed (any of the four kinds above).
func KeyID(k []byte) (uint64, bool) {
	if len(k) < 1+IDLen {
		return 0, false
	}
	switch k[0] {
	case PrefixPres, PrefixOverflow:
		if len(k) != 1+IDLen {
			return 0, false
		}
	case PrefixEq, PrefixEqHash:
		if len(k) < 2+IDLen || k[len(k)-IDLen-1] != 0 {
			return 0, false
		}
	default:
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(k)-IDLen:]), true
}

// Budget bounds the index keys of one entry; the zero Budget is
// unbounded. An attribute with more than MaxValues equality keys gets one
// overflow key instead; if the entry still has more than MaxKeys keys,
// its attributes with the most values overflow too, largest first.
type Budget struct {
	MaxValues int
	MaxKeys   int
}

// Keys returns the index keys of entry e stored under id, sorted and
// without duplicates, within b. Attributes unknown to the schema are not
// indexed; values the equality rule rejects get only the presence key.
func (p *Plan) Keys(e *directory.Entry, id uint64, b Budget) []Key {
	var out []Key
	for _, a := range e.Attrs {
		at, ok := p.Schema.Attr(a.Name)
		if !ok || !p.Indexed[at.Name()] || len(a.Values) == 0 {
			continue
		}
		name := at.Name()
		out = append(out, Key{Attr: name, Key: PresKey(id)})
		for _, v := range a.Values {
			if n, ok := at.Normalize(v); ok {
				out = append(out, Key{Attr: name, Key: EqKey(n, id)})
			}
		}
	}
	out = sortKeys(out)
	if b == (Budget{}) {
		return out
	}
	return overflow(out, id, b)
}

// overflow applies b to keys (sorted, so that each attribute's keys are
// adjacent: one presence key and its equality keys).
func overflow(keys []Key, id uint64, b Budget) []Key {
	type span struct {
		attr string
		eq   int // equality keys
	}
	var spans []span
	for _, k := range keys {
		if len(spans) == 0 || spans[len(spans)-1].attr != k.Attr {
			spans = append(spans, span{attr: k.Attr})
		}
		if k.Key[0] != PrefixPres {
			spans[len(spans)-1].eq++
		}
	}
	over := map[string]bool{}
	total := 0
	for _, s := range spans {
		total += 1 + s.eq
		if s.eq > b.MaxValues {
			over[s.attr] = true
			total -= s.eq - 1
		}
	}
	if total > b.MaxKeys {
		slices.SortFunc(spans, func(x, y span) int {
			return cmp.Or(cmp.Compare(y.eq, x.eq), strings.Compare(x.attr, y.attr))
		})
		for _, s := range spans {
			if total <= b.MaxKeys || s.eq <= 1 {
				break
			}
			if !over[s.attr] {
				over[s.attr] = true
				total -= s.eq - 1
			}
		}
	}
	if len(over) == 0 {
		return keys
	}
	out := keys[:0:0]
	for _, k := range keys {
		if !over[k.Attr] {
			out = append(out, k)
		} else if k.Key[0] == PrefixPres {
			out = append(out, Key{Attr: k.Attr, Key: OverflowKey(id)}, k)
		}
	}
	return out
}

// sortKeys sorts keys and drops duplicates.
func sortKeys(keys []Key) []Key {
	slices.SortFunc(keys, CompareKeys)
	return slices.CompactFunc(keys, func(a, b Key) bool { return CompareKeys(a, b) == 0 })
}
