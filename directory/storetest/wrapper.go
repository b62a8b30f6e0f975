package storetest

import (
	"context"
	"reflect"

	"github.com/ldapd/ldapd/directory"
)

// CheckWrapper checks that wrap, which wraps a Store in another (the
// metrics' commit timing, ...), hides nothing the store offers beside the
// Store methods: every exported method of base (and of the stores base
// itself wraps) must be reachable through wrap(base) with directory.As,
// either because the wrapper implements it or because it unwraps to a
// store that does. The optional interfaces of package directory
// (Versioned, BulkAdder, BulkLoader, Verifier) are checked by name, the rest
// (boltstore's Backup and Stats, a future backend's own) by method name
// and signature. A wrapped Versioned store must also still change its
// version when an Update through the wrapper commits, or every cache
// above it would serve stale answers.
//
// base should be a fresh, empty store; CheckWrapper commits one meta value
// to it. t is a *testing.T, or anything that records errors (a test of
// CheckWrapper itself).
func CheckWrapper(t Errorer, base directory.Store, wrap func(directory.Store) directory.Store) {
	t.Helper()
	w := wrap(base)
	named := []struct {
		name      string
		base, got bool
	}{
		{"directory.Versioned", has[directory.Versioned](base), has[directory.Versioned](w)},
		{"directory.BulkAdder", has[directory.BulkAdder](base), has[directory.BulkAdder](w)},
		{"directory.BulkLoader", has[directory.BulkLoader](base), has[directory.BulkLoader](w)},
		{"directory.Verifier", has[directory.Verifier](base), has[directory.Verifier](w)},
	}
	for _, c := range named {
		if c.base && !c.got {
			t.Errorf("%T hides %s of the store it wraps (%T): implement Unwrap() directory.Store", w, c.name, base)
		}
	}
	offered := methods(base)
	reachable := methods(w)
	for name, typ := range offered {
		if got, ok := reachable[name]; !ok || got != typ {
			t.Errorf("%T hides method %s %v of the store it wraps (%T): implement Unwrap() directory.Store", w, name, typ, base)
		}
	}

	bv, ok := directory.As[directory.Versioned](base)
	if !ok {
		return
	}
	wv, ok := directory.As[directory.Versioned](w)
	if !ok {
		return // reported above
	}
	before := bv.Version()
	if err := w.Update(context.Background(), func(tx directory.WriteTx) error {
		return tx.SetMeta("storetest.wrapper", []byte("1"))
	}); err != nil {
		t.Errorf("Update through the wrapper: %v", err)
		return
	}
	if wv.Version() == before || wv.Version() != bv.Version() {
		t.Errorf("after a commit through %T its Version is %d, the wrapped store's %d (was %d): caches above it would not see the write",
			w, wv.Version(), bv.Version(), before)
	}
}

// Errorer is the part of testing.TB that CheckWrapper uses.
type Errorer interface {
	Helper()
	Errorf(format string, args ...any)
}

func has[T any](s directory.Store) bool {
	_, ok := directory.As[T](s)
	return ok
}

// methods returns the exported methods of s and of every store it wraps
// (what directory.As can find), by name, with their signatures (receiver
// bound); the outermost store's method wins, as with directory.As.
func methods(s directory.Store) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for s != nil {
		v := reflect.ValueOf(s)
		for i := range v.NumMethod() {
			name := v.Type().Method(i).Name
			if _, seen := out[name]; !seen && !isStoreMethod(name) {
				out[name] = v.Method(i).Type()
			}
		}
		u, ok := s.(directory.Wrapper)
		if !ok {
			break
		}
		s = u.Unwrap()
	}
	return out
}

// isStoreMethod reports whether name is a method every Store or Wrapper
// has, which is not a capability.
func isStoreMethod(name string) bool {
	switch name {
	case "View", "Update", "Close", "Unwrap":
		return true
	}
	return false
}
