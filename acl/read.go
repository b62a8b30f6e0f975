package acl

import "github.com/ldapd/ldapd/directory"

// attrClass is what the read rules make of an attribute name: a set of
// the classes below.
type attrClass uint8

const (
	classPublic          attrClass = 1 << iota // everyone but restricted anonymous clients reads it
	classPII                                   // personal data: idm_people_pii_read
	classNSS                                   // what NSS clients read (--anonymous-read posix)
	classUnixAuth                              // the shadow attributes: idm_unix_authentication_read
	classPassword                              // userPassword: nobody reads it
	classMail                                  // mail: idm_account_mail_read
	classHasSubordinates                       // tells whether a service account has tokens
)

// classify adds c to the classes of names, under their lower-case forms
// and as spelled here (the canonical names an entry's attributes have, so
// that class finds those with one map lookup).
func (p *Policy) classify(c attrClass, names ...string) {
	for _, n := range names {
		l := p.lowerName(n)
		p.classes[l] |= c
		if n != l {
			p.classes[n] |= c
		}
	}
}

// class returns the classes of the attribute named attr.
func (p *Policy) class(attr string) attrClass {
	if c, ok := p.classes[attr]; ok {
		return c
	}
	return p.classes[p.lowerName(attr)]
}

// groupBit is one of the groups the read rules ask about.
type groupBit uint8

const (
	inSystemAdmins groupBit = 1 << iota
	inMailRead
	inUnixAuthRead
	inPIIRead
	inPeopleAdmins
	inGroupAdmins
	inServiceAccountAdmins
)

// AttrReader answers CanReadAttr for one subject, one entry at a time:
// the subject's memberships of the groups the rules name are looked up
// once, the entry's kind once per entry, and an attribute's classes with
// one map lookup. A search asks it about every attribute it returns.
type AttrReader struct {
	p      *Policy
	s      Subject
	groups groupBit
	// groupsDone: groups is worked out (only an account's rights need it).
	groupsDone bool
	e          *directory.Entry
	kind       Kind
	kindDone   bool
}

// AttrReader returns the reader of s; set its entry with Entry.
func (p *Policy) AttrReader(s Subject) AttrReader { return AttrReader{p: p, s: s} }

// Entry makes e, an entry the subject can see, the one CanRead answers
// about.
func (r *AttrReader) Entry(e *directory.Entry) {
	r.e, r.kindDone = e, false
}

func (r *AttrReader) in(g groupBit) bool {
	if !r.groupsDone {
		r.groupsDone = true
		p := r.p
		for _, x := range [...]struct {
			bit groupBit
			dn  directory.DN
		}{
			{inSystemAdmins, p.SystemAdmins}, {inMailRead, p.MailRead}, {inUnixAuthRead, p.UnixAuthRead},
			{inPIIRead, p.PIIRead}, {inPeopleAdmins, p.PeopleAdmins}, {inGroupAdmins, p.GroupAdmins},
			{inServiceAccountAdmins, p.ServiceAccountAdmins},
		} {
			if r.s.InGroup(x.dn) {
				r.groups |= x.bit
			}
		}
	}
	return r.groups&g != 0
}

func (r *AttrReader) entryKind() Kind {
	if !r.kindDone {
		r.kind, r.kindDone = r.p.KindOf(r.e), true
	}
	return r.kind
}

// tellsTokens reports whether an attribute of classes c would tell whether
// the entry, a service account, has tokens (its children):
// hasSubordinates of a service account is for those who may see its token
// records.
func (r *AttrReader) tellsTokens(c attrClass) bool {
	return c&classHasSubordinates != 0 && r.p.positionOf(r.e.DN) == KindServiceAccount
}

// CanRead reports whether the subject may read attribute attr (a
// canonical name) of the entry.
func (r *AttrReader) CanRead(attr string) bool {
	p, s := r.p, &r.s
	c := p.class(attr)
	if c&classPassword != 0 {
		return false
	}
	if s.Kind == Anonymous && p.AnonymousRead != AnonymousPublic {
		return p.AnonymousRead == AnonymousPOSIX && c&classNSS != 0 && !r.tellsTokens(c)
	}
	if s.Kind == Root || (c&classPublic != 0 && !r.tellsTokens(c)) {
		return true
	}
	if s.Kind != Account {
		return false
	}
	if p.isSelf(*s, r.e.DN) || r.in(inSystemAdmins) {
		return true
	}
	k := r.entryKind()
	account := k == KindPerson || k == KindServiceAccount
	if c&classMail != 0 && r.in(inMailRead) && account {
		return true
	}
	if c&classUnixAuth != 0 && r.in(inUnixAuthRead) && account {
		return true
	}
	if c&classPII != 0 && (r.in(inPIIRead) || (k == KindPerson && r.in(inPeopleAdmins))) {
		return true
	}
	switch k {
	case KindPerson:
		return r.in(inPeopleAdmins) && c&classPII == 0
	case KindGroup:
		return r.in(inGroupAdmins)
	case KindServiceAccount:
		return r.in(inServiceAccountAdmins) || p.isManager(*s, r.e)
	case KindToken:
		// Token records hold no secret; whoever can see them reads them.
		return true
	}
	return false
}
