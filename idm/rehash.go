package idm

import (
	"context"

	"github.com/ldapd/ldapd/directory"
)

// rehash replaces a legacy password value (imported {SSHA}, {CRYPT}, ...)
// that pw just matched with an argon2id hash of pw. It is best effort: the
// bind has succeeded either way, and a failure is only logged. The old
// value is removed by value, so a password changed concurrently is left
// alone (the delete then fails with noSuchAttribute and nothing changes).
// It returns the new value, or "" if it was not stored.
func (s *Service) rehash(ctx context.Context, dn directory.DN, old, pw string) string {
	h, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.Update(ctx, func(tx directory.WriteTx) error {
			return tx.Modify(dn, []directory.Change{
				{Op: directory.ChangeDelete, Attr: "userPassword", Values: []string{old}},
				{Op: directory.ChangeAdd, Attr: "userPassword", Values: []string{h}},
			})
		})
	}
	if err != nil {
		s.log.Warn().Str("identity", dn.String()).Err(err).Msg("rehashing a legacy password failed")
		return ""
	}
	secEvent(ctx, s.log.Info()).Str("identity", dn.String()).Msg("legacy password hash replaced with argon2id")
	return h
}
