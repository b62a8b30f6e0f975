package acl

// MayBackup decides whether s may take a backup of the directory. A backup
// archive holds every password hash and the token signing keys, with which
// it could mint a token for any account, so it is more than any account may
// read: only Root (the server's owner-only admin socket, unbound) gets one.
// A member of system_admins is refused too, over LDAP or with a token, and
// so is a client that re-bound on the admin socket as an account.
func MayBackup(s Subject) Decision {
	if s.Kind == Root {
		return allow()
	}
	return deny("backup is only served to the admin socket's root identity")
}
