package main

import (
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldapserver"
)

// Schema passes on the schema of the handler the admin socket's handler
// wraps (ldapserver.SchemaSource), so that the socket decodes requests
// with the identity core's schema like the LDAP listeners.
func (h *backupHandler) Schema() *directory.Schema {
	if src, ok := h.next.(ldapserver.SchemaSource); ok {
		return src.Schema()
	}
	return directory.Builtin()
}
