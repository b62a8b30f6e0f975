// Package indexdef is the index definition the storage backends share:
// which attributes are indexed, which filter attributes those indexes can
// answer, and the bytes of an attribute's index keys (keys.go). Each
// backend decides where an attribute's keys live (a bbolt bucket, an etcd
// key prefix); the search planner (directory/internal/plan) reads them.
//
// # Basics
//
// New resolves the configured attribute names against the schema. A
// filter on attribute A can use the equality indexes only when A and every
// subtype of A are indexed and share A's equality rule (so that the
// filter's normalized assertion is directly comparable); presence needs
// only the indexes.
//
// # Caveats
//
// Signature identifies the set; a backend stores it and rebuilds (or
// refuses) when the configured set changes.
package indexdef

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// Plan is the configured set of indexed attributes and what it answers.
type Plan struct {
	Schema  *directory.Schema
	Names   []string        // canonical names, sorted
	Indexed map[string]bool // by canonical name
	// EqQuery maps a filter attribute (canonical name) to the indexes
	// holding its values: the attribute and every subtype, listed only
	// when all of them are indexed and share its equality rule.
	EqQuery map[string][]string
	// PresQuery is the same for presence filters (no rule needed).
	PresQuery map[string][]string
}

// New builds the plan for attrs; an unknown attribute is an error
// wrapping directory.ErrUndefinedAttributeType.
func New(s *directory.Schema, attrs []string) (*Plan, error) {
	p := &Plan{Schema: s, Indexed: map[string]bool{}, EqQuery: map[string][]string{}, PresQuery: map[string][]string{}}
	for _, name := range attrs {
		at, ok := s.Attr(name)
		if !ok {
			return nil, fmt.Errorf("index on attribute %q: %w", name, directory.ErrUndefinedAttributeType)
		}
		if !p.Indexed[at.Name()] {
			p.Indexed[at.Name()] = true
			p.Names = append(p.Names, at.Name())
		}
	}
	slices.Sort(p.Names)
	for _, at := range s.AttributeTypes() {
		var subs []string
		allIndexed, sameRule := true, at.HasEquality()
		for _, other := range s.AttributeTypes() {
			if !other.IsA(at) {
				continue
			}
			subs = append(subs, other.Name())
			allIndexed = allIndexed && p.Indexed[other.Name()]
			sameRule = sameRule && other.HasEquality() && strings.EqualFold(other.Equality, at.Equality)
		}
		if allIndexed {
			p.PresQuery[at.Name()] = subs
			if sameRule {
				p.EqQuery[at.Name()] = subs
			}
		}
	}
	return p, nil
}

// Signature identifies the set of indexed attributes.
func (p *Plan) Signature() string { return strings.Join(p.Names, "\n") }

// Key is one index key of attribute Attr; its bytes are the backend's.
type Key struct {
	Attr string
	Key  []byte
}

// CompareKeys orders keys by attribute, then bytes.
func CompareKeys(a, b Key) int {
	if c := strings.Compare(a.Attr, b.Attr); c != 0 {
		return c
	}
	return bytes.Compare(a.Key, b.Key)
}
