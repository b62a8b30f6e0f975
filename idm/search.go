package idm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/logfield"
)

// SubschemaDN is the DN of the subschema entry.
const SubschemaDN = "cn=Subschema"

// SearchRequest is a search as the core sees it: DNs and the filter already
// parsed and resolved.
type SearchRequest struct {
	Base      directory.DN
	Scope     directory.Scope
	Filter    *directory.Filter
	Attrs     []string // as requested: names, "*", "+", "1.1"
	SizeLimit int      // 0: the server's maximum
	// Skip and PageSize serve the Simple Paged Results control: skip the
	// first Skip matching entries and return at most PageSize (0: no page).
	Skip, PageSize int
}

// SearchResult reports how a search ended.
type SearchResult struct {
	// More is set when a page filled up and further entries match.
	More bool
	// Notice, when set, tells the client why entries it asked for are
	// not shown: a search below a service account by someone who may not
	// see its token records gets the rule's reason (it depends on the
	// subject's rights only, never on whether records exist).
	Notice string
}

// Search runs req as id and calls each for every entry the subject may
// see, holding only the attributes requested and readable. It returns
// ErrSizeLimitExceeded after delivering SizeLimit entries when more match,
// and ErrTimeLimitExceeded when ctx's deadline passes.
func (s *Service) Search(ctx context.Context, id Identity, req SearchRequest, each func(*directory.Entry) error) (SearchResult, error) {
	limit := s.cfg.MaxSizeLimit
	if req.SizeLimit > 0 && req.SizeLimit < limit {
		limit = req.SizeLimit
	}
	sel := newSelection(s.schema, req.Attrs)
	if req.Base.IsRoot() && req.Scope == directory.ScopeBase {
		return SearchResult{}, s.searchSpecial(ctx, id, s.rootDSE(), req, sel, each)
	}
	if req.Scope == directory.ScopeBase && req.Base.Equal(directory.MustParseDN(SubschemaDN)) {
		return SearchResult{}, s.searchSpecial(ctx, id, s.subschema(), req, sel, each)
	}
	if id.Kind == acl.Anonymous && s.policy.AnonymousRead == acl.AnonymousNone {
		// Nothing to show, and nothing to tell: not even whether the base
		// exists.
		return SearchResult{}, nil
	}
	base, scope := req.Base, req.Scope
	if _, _, ok := s.kanidmRDN(base); ok {
		if err := s.store.View(ctx, func(tx directory.ReadTx) error {
			base = s.kanidmEntryDN(tx, base)
			return nil
		}); err != nil {
			return SearchResult{}, err
		}
	}
	if base.IsRoot() {
		// Searching from the root DSE covers the one naming context.
		base = s.base
		if scope == directory.ScopeOne {
			scope = directory.ScopeBase
		}
	}
	if !base.IsWithin(s.base) {
		return SearchResult{}, directory.NoSuchObject(base, directory.DN{})
	}
	var res SearchResult
	err := s.view(ctx, id, func(tx directory.ReadTx, sub acl.Subject) error {
		// The base must exist and be visible. Every entry but a token
		// record is visible once it exists, and the store's own lookup of
		// the base answers that (below); a token record is read first.
		if !s.policy.SeenByDN(base) {
			if _, err := s.visibleEntry(tx, sub, base); err != nil {
				return err
			}
		}
		var kclasses kanidmClasses
		filter := s.kanidmFilter(tx, req.Filter, &kclasses)
		s.logSearch(ctx, id, req, base, scope, filter)
		// Only a base directly under ou=services can be a service account:
		// other searches read nothing more for the notice.
		if scope != directory.ScopeBase && base.Parent().Equal(s.policy.Services) {
			if acct, err := tx.Get(base); err == nil && s.policy.KindOf(acct) == acl.KindServiceAccount {
				if d := s.policy.TokenAccess(sub, acct); !d.Allowed {
					res.Notice = d.Reason
				}
			}
		}
		matched, sent := 0, 0
		err := tx.Search(base, scope, candidates(filter), func(e *directory.Entry) error {
			if err := ctx.Err(); err != nil {
				return directory.ErrTimeLimitExceeded
			}
			if !s.policy.CanSee(sub, e, s.parentAccount(tx, e)) {
				return nil
			}
			visible := s.readable(sub, e)
			s.kanidmShape(sub, e, visible)
			if !filter.Match(visible) {
				return nil // the match relied on attributes sub may not read
			}
			matched++
			if matched <= req.Skip {
				return nil
			}
			if req.PageSize > 0 && sent == req.PageSize {
				res.More = true
				return directory.ErrStop
			}
			if sent == limit {
				return directory.Errorf(directory.ErrSizeLimitExceeded, "")
			}
			out, err := sel.apply(tx, visible)
			if err != nil {
				return err
			}
			if out.Has("hasSubordinates") && !s.policy.CanReadAttr(sub, e, "hasSubordinates") {
				out.Delete("hasSubordinates")
			}
			kclasses.shape(e, out)
			sent++
			return each(out)
		})
		if found, ok := directory.MatchedDN(err); ok && errors.Is(err, directory.ErrNoSuchObject) {
			// A missing base: name only an ancestor sub may see.
			return directory.NoSuchObject(base, s.visibleAncestor(tx, sub, found))
		}
		return err
	})
	return res, err
}

// candidates returns a filter that matches at least every entry whose
// readable attributes match f: f with each NOT replaced by the absolute true
// filter (&). The store evaluates its filter on whole entries, and a NOT can
// be false on the whole entry yet true on the part the subject may read:
// (!(mail=x)) would otherwise drop exactly the entries whose hidden mail is
// x, an existence oracle. Search re-checks f on the readable entry.
func candidates(f *directory.Filter) *directory.Filter {
	switch f.Kind {
	case directory.FilterNot:
		return &directory.Filter{Kind: directory.FilterAnd}
	case directory.FilterAnd, directory.FilterOr:
		var out *directory.Filter
		for i, c := range f.Children {
			r := candidates(c)
			if r == c {
				continue
			}
			if out == nil {
				clone := *f
				clone.Children = slices.Clone(f.Children)
				out = &clone
			}
			out.Children[i] = r
		}
		if out != nil {
			return out
		}
	}
	return f
}

func (s *Service) searchSpecial(ctx context.Context, id Identity, e *directory.Entry, req SearchRequest, sel selection, each func(*directory.Entry) error) error {
	if err := s.Check(ctx, id); err != nil {
		return err
	}
	if !req.Filter.Match(e) {
		return nil
	}
	out, err := sel.apply(nil, e)
	if err != nil {
		return err
	}
	return each(out)
}

// readable returns a copy of e holding only the attributes sub may read.
func (s *Service) readable(sub acl.Subject, e *directory.Entry) *directory.Entry {
	out := &directory.Entry{DN: e.DN, Attrs: make([]directory.Attr, 0, len(e.Attrs))}
	for _, a := range e.Attrs {
		if s.policy.CanReadAttr(sub, e, a.Name) {
			out.Attrs = append(out.Attrs, a)
		}
	}
	return out
}

// selection is a parsed attribute list.
type selection struct {
	schema           *directory.Schema
	allUser, allOper bool
	none             bool
	named            map[string]bool
}

func newSelection(schema *directory.Schema, attrs []string) selection {
	sel := selection{schema: schema, named: map[string]bool{}}
	if len(attrs) == 0 {
		sel.allUser = true
	}
	for _, a := range attrs {
		switch a {
		case "*":
			sel.allUser = true
		case "+":
			sel.allOper = true
		case "1.1":
			sel.none = len(attrs) == 1
		default:
			if at, ok := schema.Attr(a); ok {
				sel.named[at.LowerName()] = true
			}
		}
	}
	return sel
}

func (sel selection) wants(at *directory.AttributeType) bool {
	if sel.none {
		return false
	}
	if len(sel.named) > 0 && sel.named[at.LowerName()] {
		return true
	}
	if at.Operational() {
		return sel.allOper
	}
	return sel.allUser
}

// apply selects the requested attributes of e and adds the virtual ones
// (entryDN, hasSubordinates, subschemaSubentry) when asked for. tx may be
// nil for entries that are not in the store.
func (sel selection) apply(tx directory.ReadTx, e *directory.Entry) (*directory.Entry, error) {
	out := &directory.Entry{DN: e.DN, Attrs: make([]directory.Attr, 0, len(e.Attrs)+3)}
	if sel.none {
		return out, nil
	}
	for _, a := range e.Attrs {
		if at, ok := sel.schema.Attr(a.Name); ok && sel.wants(at) {
			out.Attrs = append(out.Attrs, a)
		}
	}
	if tx == nil {
		return out, nil
	}
	virtual := func(name string) bool {
		at, _ := sel.schema.Attr(name)
		return sel.wants(at)
	}
	if virtual("entryDN") {
		out.Set("entryDN", e.DN.String())
	}
	if virtual("subschemaSubentry") {
		out.Set("subschemaSubentry", SubschemaDN)
	}
	if virtual("hasSubordinates") {
		has, err := tx.HasChildren(e.DN)
		if err != nil {
			return nil, err
		}
		out.Set("hasSubordinates", map[bool]string{true: "TRUE", false: "FALSE"}[has])
	}
	return out, nil
}

// Compare answers an LDAP Compare: true or false, ErrNoSuchAttribute when
// the entry lacks the attribute, ErrInsufficientAccess when sub may not
// read it.
func (s *Service) Compare(ctx context.Context, id Identity, dn directory.DN, attr, value string) (bool, error) {
	at, ok := s.schema.Attr(attr)
	if !ok {
		return false, directory.Errorf(directory.ErrUndefinedAttributeType, attr)
	}
	if !at.HasEquality() {
		return false, directory.Errorf(directory.ErrInappropriateMatching, at.Name()+" has no equality matching rule")
	}
	var result bool
	err := s.view(ctx, id, func(tx directory.ReadTx, sub acl.Subject) error {
		e, err := s.visibleEntry(tx, sub, s.kanidmEntryDN(tx, dn))
		if err != nil {
			return err
		}
		if !s.policy.CanReadAttr(sub, e, at.Name()) {
			return directory.Errorf(directory.ErrInsufficientAccess, "no compare access to "+at.Name())
		}
		if at.Name() == "entryDN" {
			result = s.eqFilter("entryDN", value).Match(e)
			return nil
		}
		if !e.Has(at.Name()) {
			return directory.Errorf(directory.ErrNoSuchAttribute, at.Name())
		}
		result = e.HasValue(s.schema, at.Name(), value)
		return nil
	})
	return result, err
}

// logSearch logs a search at debug level: what the client asked (base,
// scope, filter, attributes) and what Kanidm's vocabulary made of it, so
// that a client getting no entries can be told why. Client strings are
// clipped; assertion values of userPassword are never logged.
func (s *Service) logSearch(ctx context.Context, id Identity, req SearchRequest, base directory.DN, scope directory.Scope, filter *directory.Filter) {
	ev := s.log.Debug()
	if !ev.Enabled() {
		return
	}
	attrs := make([]string, 0, min(len(req.Attrs), 32))
	for i, a := range req.Attrs {
		if i == 32 {
			attrs = append(attrs, fmt.Sprintf("...(+%d)", len(req.Attrs)-i))
			break
		}
		attrs = append(attrs, logfield.Clip(a))
	}
	ev = ev.Str("identity", id.String()).Str("base", logfield.Clip(req.Base.String())).
		Str("scope", scope.String()).Str("filter", logfield.Clip(redactFilter(req.Filter).String())).Strs("attrs", attrs)
	if !base.Equal(req.Base) {
		ev = ev.Str("resolved_base", logfield.Clip(base.String()))
	}
	if filter != req.Filter {
		ev = ev.Str("kanidm_filter", logfield.Clip(redactFilter(filter).String()))
	}
	if addr := clientAddrOf(ctx); addr != "" {
		ev = ev.Str("client", addr)
	}
	ev.Msg("search")
}

// redactFilter returns f with the assertion values on userPassword
// replaced, f itself when it has none.
func redactFilter(f *directory.Filter) *directory.Filter {
	if f == nil {
		return f
	}
	if at := f.Attribute(); (at != nil && at.Name() == "userPassword") || strings.EqualFold(f.Attr, "userPassword") {
		g := *f
		if g.Value != "" {
			g.Value = "(redacted)"
		}
		if g.Initial != "" || g.Final != "" || len(g.Any) > 0 {
			g.Initial, g.Final, g.Any = "(redacted)", "", nil
		}
		return &g
	}
	var out *directory.Filter
	for i, c := range f.Children {
		r := redactFilter(c)
		if r == c {
			continue
		}
		if out == nil {
			g := *f
			g.Children = slices.Clone(f.Children)
			out = &g
		}
		out.Children[i] = r
	}
	if out != nil {
		return out
	}
	return f
}
