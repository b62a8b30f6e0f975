package acl

import (
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// Kind is what an entry is to the policy. It comes from the entry's
// structural class *and* its position in the tree: an inetOrgPerson is a
// person only directly under ou=people, a groupOfNames a group only
// directly under ou=groups. An entry whose class and position disagree
// (an inetOrgPerson under ou=groups, a groupOfNames under ou=people) is
// KindOther: it neither binds, nor confers membership, nor is managed by
// the delegated admin groups.
type Kind uint8

// Entry kinds.
const (
	KindOther Kind = iota
	// KindPerson is an inetOrgPerson directly under ou=people (the
	// built-in accounts admin and idm_admin included).
	KindPerson
	// KindGroup is a groupOfNames or groupOfUniqueNames directly under
	// ou=groups.
	KindGroup
	// KindServiceAccount is an ldapdServiceAccount directly under
	// ou=services.
	KindServiceAccount
	// KindToken is an ldapdApiToken exactly one level below a service
	// account's position (ldapdTokenId=ID,uid=NAME,ou=services,BASE).
	KindToken
)

func (k Kind) String() string {
	return [...]string{"entry", "person", "group", "service account", "API token record"}[k]
}

// KindOf classifies e by its object classes and its DN.
func (p *Policy) KindOf(e *directory.Entry) Kind {
	if e == nil {
		return KindOther
	}
	switch p.positionOf(e.DN) {
	case KindPerson:
		if hasClass(e, "inetOrgPerson") {
			return KindPerson
		}
	case KindGroup:
		if hasClass(e, "groupOfNames") || hasClass(e, "groupOfUniqueNames") {
			return KindGroup
		}
	case KindServiceAccount:
		if hasClass(e, directory.ClassServiceAccount) {
			return KindServiceAccount
		}
	case KindToken:
		if hasClass(e, directory.ClassAPIToken) {
			return KindToken
		}
	}
	return KindOther
}

// IsAccount reports whether e may bind: a person or a service account.
// Groups and every other entry never bind, whatever attributes they hold.
func (p *Policy) IsAccount(e *directory.Entry) bool {
	k := p.KindOf(e)
	return k == KindPerson || k == KindServiceAccount
}

// IsGroup reports whether e confers membership: only group entries
// directly under ou=groups do.
func (p *Policy) IsGroup(e *directory.Entry) bool { return p.KindOf(e) == KindGroup }

// positionOf is the kind an entry named dn would have if its class fit.
func (p *Policy) positionOf(dn directory.DN) Kind {
	switch parent := dn.Parent(); {
	case parent.Equal(p.People):
		return KindPerson
	case parent.Equal(p.Groups):
		return KindGroup
	case parent.Equal(p.Services):
		return KindServiceAccount
	case dn.Depth() == p.Services.Depth()+2 && dn.IsDescendantOf(p.Services):
		return KindToken
	}
	return KindOther
}

func hasClass(e *directory.Entry, class string) bool {
	for _, v := range e.Get("objectClass") {
		if strings.EqualFold(v, class) {
			return true
		}
	}
	return false
}
