package idm

import (
	"slices"
	"strings"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

// reservedNames are login names no client may give an account: NSS and PAM
// clients resolve them to the host's own system accounts, so an LDAP
// account named so would shadow or impersonate one of them.
var reservedNames = []string{"root", "toor", "daemon", "bin", "sys", "sync", "adm", "wheel", "nobody",
	"nogroup", "sshd", "shadow", "operator", "sudo"}

// checkLoginName holds an account (a person or a service account) to one
// login name: its uid is the value of its RDN, one value, changed only by
// a rename. The names of the host's system accounts are refused on new
// names. The local root (import, the admin socket) is not held to it.
func (s *Service) checkLoginName(sub acl.Subject, old, e *directory.Entry) error {
	if sub.Kind == acl.Root {
		return nil
	}
	if k := s.policy.KindOf(e); k != acl.KindPerson && k != acl.KindServiceAccount {
		return nil
	}
	name, ok := e.DN.RDN().Value("uid")
	if !ok || len(e.DN.RDN().AVAs()) != 1 {
		return directory.Errorf(directory.ErrNamingViolation, "an account is named by its uid alone (uid=NAME,...)")
	}
	uids := e.Get("uid")
	if len(uids) != 1 || !strings.EqualFold(uids[0], name) {
		return directory.Errorf(directory.ErrConstraintViolation,
			"uid is the login name and has one value, the one in the entry's name; rename the entry (ModifyDN) to change it")
	}
	if old == nil || !strings.EqualFold(old.First("uid"), name) {
		if slices.Contains(reservedNames, strings.ToLower(name)) || strings.HasPrefix(strings.ToLower(name), "systemd-") {
			return directory.Errorf(directory.ErrConstraintViolation, "the login name "+name+" is reserved for the host's system accounts")
		}
	}
	return nil
}
