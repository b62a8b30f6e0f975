package idm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
	// Borrow lends each the entries instead of giving them: an entry (its
	// attribute slices and value strings) is valid only until each
	// returns, so that the search copies nothing (the store's bytes are
	// read in place). For a caller that encodes every entry at once.
	Borrow bool
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

// EntryWriter receives the entries of a search. An LDAP connection's
// response writer is one: handing it to SearchTo allocates nothing, where a
// closure around it would be allocated for every search.
type EntryWriter interface {
	// WriteEntry takes one entry; an error stops the search and is
	// returned by it.
	WriteEntry(e *directory.Entry) error
}

// EntryFunc makes a function an EntryWriter.
type EntryFunc func(*directory.Entry) error

// WriteEntry calls f(e).
func (f EntryFunc) WriteEntry(e *directory.Entry) error { return f(e) }

// Search is SearchTo with a function for each entry.
func (s *Service) Search(ctx context.Context, id Identity, req SearchRequest, each func(*directory.Entry) error) (SearchResult, error) {
	return s.SearchTo(ctx, id, req, EntryFunc(each))
}

// SearchTo runs req as id and writes to each every entry the subject may
// see, holding only the attributes requested and readable. It returns
// ErrSizeLimitExceeded after delivering SizeLimit entries when more match,
// and ErrTimeLimitExceeded when ctx's deadline passes. each owns the entry
// it gets unless req.Borrow is set.
func (s *Service) SearchTo(ctx context.Context, id Identity, req SearchRequest, each EntryWriter) (SearchResult, error) {
	r, _ := s.searches.Get().(*searchRun)
	if r == nil {
		r = &searchRun{s: s}
		r.inViewFn, r.visitFn = r.inView, r.visit
	}
	defer r.release()
	r.ctx, r.id, r.req, r.each = ctx, id, req, each
	r.limit = s.cfg.MaxSizeLimit
	if req.SizeLimit > 0 && req.SizeLimit < r.limit {
		r.limit = req.SizeLimit
	}
	r.sel.parse(s.schema, req.Attrs)
	if req.Base.IsRoot() && req.Scope == directory.ScopeBase {
		return SearchResult{}, s.searchSpecial(ctx, id, s.rootDSE(), req, &r.sel, each)
	}
	if req.Scope == directory.ScopeBase && req.Base.Equal(directory.MustParseDN(SubschemaDN)) {
		return SearchResult{}, s.searchSpecial(ctx, id, s.subschema(), req, &r.sel, each)
	}
	if id.Kind == acl.Anonymous && s.policy.AnonymousRead == acl.AnonymousNone {
		// Nothing to show, and nothing to tell: not even whether the base
		// exists.
		return SearchResult{}, nil
	}
	r.base, r.scope = req.Base, req.Scope
	if _, _, ok := s.kanidmRDN(r.base); ok {
		if err := s.store.View(ctx, func(tx directory.ReadTx) error {
			r.base = s.kanidmEntryDN(tx, r.base)
			return nil
		}); err != nil {
			return SearchResult{}, err
		}
	}
	if r.base.IsRoot() {
		// Searching from the root DSE covers the one naming context.
		r.base = s.base
		if r.scope == directory.ScopeOne {
			r.scope = directory.ScopeBase
		}
	}
	if !r.base.IsWithin(s.base) {
		return SearchResult{}, directory.NoSuchObject(r.base, directory.DN{})
	}
	err := s.view(ctx, id, r.inViewFn)
	return r.res, err
}

// searchRun is one search in progress: its parameters, its counts and the
// memory its entries are assembled in, which Service.searches keeps from
// search to search (the method values are bound once, so that handing
// them to the store allocates nothing).
type searchRun struct {
	s            *Service
	ctx          context.Context
	id           Identity
	req          SearchRequest
	each         EntryWriter
	base         directory.DN
	scope        directory.Scope
	limit        int
	sel          selection
	filter       *directory.Filter
	kclasses     kanidmClasses
	reads        []string // the attributes filter reads
	readsAll     bool     // filter may read any attribute
	tx           directory.ReadTx
	sub          acl.Subject
	reader       acl.AttrReader // sub's, for readable
	res          SearchResult
	matched      int
	sent         int
	visible, out directory.Entry // reused for every entry
	inViewFn     func(directory.ReadTx, acl.Subject) error
	visitFn      func(*directory.Entry) error
}

// release clears what r holds of the search (entries of the store among
// it) and returns r to the pool.
func (r *searchRun) release() {
	s := r.s
	clear(r.visible.Attrs[:cap(r.visible.Attrs)])
	clear(r.out.Attrs[:cap(r.out.Attrs)])
	*r = searchRun{s: s, sel: r.sel, reads: r.reads[:0], kclasses: r.kclasses[:0],
		visible: directory.Entry{Attrs: r.visible.Attrs[:0]}, out: directory.Entry{Attrs: r.out.Attrs[:0]},
		inViewFn: r.inViewFn, visitFn: r.visitFn}
	s.searches.Put(r)
}

func (r *searchRun) inView(tx directory.ReadTx, sub acl.Subject) error {
	s := r.s
	r.tx, r.sub, r.reader = tx, sub, s.policy.AttrReader(sub)
	r.res, r.matched, r.sent = SearchResult{}, 0, 0
	// The base must exist and be visible. Every entry but a token record
	// is visible once it exists, and the store's own lookup of the base
	// answers that (below); a token record is read first.
	if !s.policy.SeenByDN(r.base) {
		if _, err := s.visibleEntry(tx, sub, r.base); err != nil {
			return err
		}
	}
	r.kclasses = r.kclasses[:0]
	r.filter = s.kanidmFilter(tx, r.req.Filter, &r.kclasses)
	r.reads, r.readsAll = r.filter.AppendReads(r.reads[:0])
	s.logSearch(r.ctx, r.id, &r.req, r.base, r.scope, r.filter)
	// Only a base directly under ou=services can be a service account:
	// other searches read nothing more for the notice.
	if r.scope != directory.ScopeBase && r.base.Parent().Equal(s.policy.Services) {
		if acct, err := tx.Get(r.base); err == nil && s.policy.KindOf(acct) == acl.KindServiceAccount {
			if d := s.policy.TokenAccess(sub, acct); !d.Allowed {
				r.res.Notice = d.Reason
			}
		}
	}
	var err error
	if lt, ok := tx.(directory.LendingTx); ok && r.req.Borrow {
		err = lt.SearchLent(r.base, r.scope, candidates(r.filter), r.visitFn)
	} else {
		err = tx.Search(r.base, r.scope, candidates(r.filter), r.visitFn)
	}
	if err == nil {
		return nil
	}
	if found, ok := directory.MatchedDN(err); ok && errors.Is(err, directory.ErrNoSuchObject) {
		// A missing base: name only an ancestor sub may see.
		return directory.NoSuchObject(r.base, s.visibleAncestor(tx, sub, found))
	}
	return err
}

// visit decides what of the stored entry e sub sees and hands it on.
func (r *searchRun) visit(e *directory.Entry) error {
	s, sub := r.s, r.sub
	if err := r.ctx.Err(); err != nil {
		return directory.ErrTimeLimitExceeded
	}
	if !s.policy.CanSee(sub, e, s.parentAccount(r.tx, e)) {
		return nil
	}
	visible := r.readable(e)
	s.kanidmShape(sub, e, visible)
	if !r.filter.Match(visible) {
		return nil // the match relied on attributes sub may not read
	}
	r.matched++
	if r.matched <= r.req.Skip {
		return nil
	}
	if r.req.PageSize > 0 && r.sent == r.req.PageSize {
		r.res.More = true
		return directory.ErrStop
	}
	if r.sent == r.limit {
		return directory.Errorf(directory.ErrSizeLimitExceeded, "")
	}
	out := &r.out
	if !r.req.Borrow {
		out = &directory.Entry{} // the caller keeps it
	}
	if err := r.sel.apply(r.tx, visible, out); err != nil {
		return err
	}
	if out.Has("hasSubordinates") && !r.reader.CanRead("hasSubordinates") {
		out.Delete("hasSubordinates")
	}
	r.kclasses.shape(e, out)
	r.sent++
	return r.each.WriteEntry(out)
}

// readable returns, in r.visible, the attributes of e that sub may read
// and that the search can use: those the filter reads and those selected.
// Match gives the same answer on it as on all readable attributes, and
// apply the same entry; an attribute neither reads is not checked.
func (r *searchRun) readable(e *directory.Entry) *directory.Entry {
	out := &r.visible
	out.DN, out.Attrs = e.DN, out.Attrs[:0]
	r.reader.Entry(e)
	for _, a := range e.Attrs {
		if !r.readsAll && !r.sel.wantsName(a.Name) && !containsFold(r.reads, a.Name) {
			continue
		}
		if r.reader.CanRead(a.Name) {
			out.Attrs = append(out.Attrs, a)
		}
	}
	return out
}

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if len(n) == len(name) && (n == name || strings.EqualFold(n, name)) {
			return true
		}
	}
	return false
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
		return rewriteChildren(f, candidates)
	}
	return f
}

// rewriteChildren returns f with each child c replaced by rewrite(c): a
// copy of f when rewrite changed a child, f itself when it changed none.
func rewriteChildren(f *directory.Filter, rewrite func(*directory.Filter) *directory.Filter) *directory.Filter {
	var out *directory.Filter
	for i, c := range f.Children {
		r := rewrite(c)
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
	if out == nil {
		return f
	}
	return out
}

func (s *Service) searchSpecial(ctx context.Context, id Identity, e *directory.Entry, req SearchRequest, sel *selection, each EntryWriter) error {
	if err := s.Check(ctx, id); err != nil {
		return err
	}
	if !req.Filter.Match(e) {
		return nil
	}
	out := &directory.Entry{}
	if err := sel.apply(nil, e, out); err != nil {
		return err
	}
	return each.WriteEntry(out)
}

// selection is a parsed attribute list.
type selection struct {
	schema           *directory.Schema
	allUser, allOper bool
	none             bool
	named            []string // lower-case canonical names
	// keys are every name and the OID of the named types, what the
	// schema finds each by. When byKey is set (only named types are
	// selected and every key is ASCII), wantsName compares an ASCII name
	// with them instead of looking it up in the schema: a search checks
	// every stored attribute of every entry it returns, twice.
	keys  []string
	byKey bool
	// attrs is a copy of the list parsed: the searches of a client mostly
	// ask for the same attributes, and a pooled searchRun parses them once.
	attrs []string
}

// parse makes sel the selection of attrs, reusing its memory and, when
// attrs is the list sel was parsed from, its work.
func (sel *selection) parse(schema *directory.Schema, attrs []string) {
	if sel.schema == schema && schema != nil && slices.Equal(sel.attrs, attrs) {
		return
	}
	*sel = selection{schema: schema, named: sel.named[:0], keys: sel.keys[:0], allUser: len(attrs) == 0,
		attrs: sel.attrs[:0]}
	for _, a := range attrs {
		sel.attrs = append(sel.attrs, strings.Clone(a))
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
			if at, ok := schema.Attr(a); ok && !slices.Contains(sel.named, at.LowerName()) {
				sel.named = append(sel.named, at.LowerName())
				sel.keys = append(append(sel.keys, at.OID), at.Names...)
			}
		}
	}
	sel.byKey = !sel.allUser && !sel.allOper && !slices.ContainsFunc(sel.keys, func(k string) bool { return !isASCII(k) })
}

func (sel *selection) wants(at *directory.AttributeType) bool {
	if sel.none {
		return false
	}
	if slices.Contains(sel.named, at.LowerName()) {
		return true
	}
	if at.Operational() {
		return sel.allOper
	}
	return sel.allUser
}

// wantsName is wants for an attribute's name; an unknown name is not
// wanted.
func (sel *selection) wantsName(name string) bool {
	if sel.byKey && isASCII(name) && strings.IndexByte(name, ';') < 0 {
		// The schema would lower-case name and find the type with that
		// key: for ASCII, the same as comparing ignoring case.
		return !sel.none && slices.ContainsFunc(sel.keys, func(k string) bool { return equalFoldASCII(k, name) })
	}
	at, ok := sel.schema.Attr(name)
	return ok && sel.wants(at)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// equalFoldASCII is strings.EqualFold for ASCII a and b.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if l := x | 0x20; l != y|0x20 || l < 'a' || l > 'z' {
			return false
		}
	}
	return true
}

// apply sets out to the requested attributes of e (sharing their values)
// and adds the virtual ones (entryDN, hasSubordinates, subschemaSubentry)
// when asked for. tx may be nil for entries that are not in the store.
func (sel *selection) apply(tx directory.ReadTx, e, out *directory.Entry) error {
	out.DN, out.Attrs = e.DN, out.Attrs[:0]
	if sel.none {
		return nil
	}
	for _, a := range e.Attrs {
		if sel.wantsName(a.Name) {
			out.Attrs = append(out.Attrs, a)
		}
	}
	if tx == nil {
		return nil
	}
	if sel.wantsName("entryDN") {
		out.Set("entryDN", e.DN.String())
	}
	if sel.wantsName("subschemaSubentry") {
		out.Set("subschemaSubentry", SubschemaDN)
	}
	if sel.wantsName("hasSubordinates") {
		has, err := tx.HasChildren(e.DN)
		if err != nil {
			return err
		}
		out.Set("hasSubordinates", map[bool]string{true: "TRUE", false: "FALSE"}[has])
	}
	return nil
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
func (s *Service) logSearch(ctx context.Context, id Identity, req *SearchRequest, base directory.DN, scope directory.Scope, filter *directory.Filter) {
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
	return rewriteChildren(f, redactFilter)
}
