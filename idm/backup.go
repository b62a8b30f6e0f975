package idm

import (
	"context"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

// MayBackup returns nil if id may take a backup of the directory (the
// policy is acl.MayBackup: root only), or an ErrInsufficientAccess error
// saying why not. A bound identity's subject is derived from the store
// first, as for every other operation.
func (s *Service) MayBackup(ctx context.Context, id Identity) error {
	return s.view(ctx, id, func(_ directory.ReadTx, sub acl.Subject) error {
		if d := acl.MayBackup(sub); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		return nil
	})
}
