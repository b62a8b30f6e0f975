package indexdef

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Posting lists, the layout boltstore keeps (etcdstore keeps one key per
// id, above). The ids indexed under one prefix P (EqPrefix(norm), or
// PrefixPres alone) are split into chunks of at most MaxChunk ids; each
// chunk is one key and its value:
//
//	P first          first is the chunk's smallest id (uint64 BE), so
//	                 the key has the shape of the per-id key of that id
//	deltas           the value: the chunk's other ids, ascending, each as
//	                 the uvarint of its difference from the id before it
//	                 (first for the second id); empty for a chunk of one
//
// The chunks of P, in key order, hold ascending, disjoint ranges of ids.
// A value unique to one entry is therefore one key with an empty value,
// and a value every entry shares costs about a byte per entry; one write
// rewrites one chunk of at most MaxChunk ids.
//
// As with the per-id keys, a longer key sharing the prefix P belongs to
// another value (a norm may contain 0x00): the keys of P are exactly those
// of length len(P)+IDLen.

// MaxChunk is the most ids one chunk holds.
const MaxChunk = 256

// ErrBadPosting is wrapped by DecodePosting's errors.
var ErrBadPosting = errors.New("malformed posting chunk")

// AppendPosting appends the value of the chunk holding ids (ascending,
// without duplicates, not empty) to dst: the deltas of ids[1:].
func AppendPosting(dst []byte, ids []uint64) []byte {
	for i := 1; i < len(ids); i++ {
		dst = binary.AppendUvarint(dst, ids[i]-ids[i-1])
	}
	return dst
}

// DecodePosting appends to ids the ids of the chunk whose key ends in
// first and whose value is val: first, then the ids the deltas give.
func DecodePosting(ids []uint64, first uint64, val []byte) ([]uint64, error) {
	ids = append(ids, first)
	id := first
	for len(val) > 0 {
		d, n := binary.Uvarint(val)
		if n <= 0 || d == 0 || id+d < id {
			return ids, fmt.Errorf("%w: bad delta after id %d", ErrBadPosting, id)
		}
		id += d
		ids = append(ids, id)
		val = val[n:]
	}
	return ids, nil
}

// PostingLen returns the number of ids in a chunk whose value is val (1
// more than its deltas; a malformed value counts what it decodes).
func PostingLen(val []byte) int {
	n := 1
	for _, b := range val {
		if b < 0x80 {
			n++
		}
	}
	return n
}
