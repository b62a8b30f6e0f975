package idm

import (
	"context"
	"errors"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
)

// PasswordModify implements RFC 3062. user names the account (a DN, spn or
// bare name; empty: the bound account). When oldPW is given it must match.
// When newPW is nil a password is generated and returned.
func (s *Service) PasswordModify(ctx context.Context, id Identity, user string, oldPW, newPW *string) (string, error) {
	if user == "" && id.Kind != acl.Account {
		return "", directory.Errorf(directory.ErrUnwillingToPerform, "bind first, or name the account whose password to change")
	}
	var target directory.DN
	var stored []string
	err := s.view(ctx, id, func(tx directory.ReadTx, sub acl.Subject) error {
		target = id.DN
		if user != "" {
			dn, err := s.resolveAccount(tx, user)
			if err != nil {
				return directory.Errorf(directory.ErrNoSuchObject, "no account named "+user)
			}
			target = dn
		}
		e, err := s.visibleEntry(tx, sub, target)
		if err != nil {
			return err
		}
		stored = e.Get("userPassword")
		return nil
	})
	if err != nil {
		return "", err
	}
	if oldPW != nil {
		ok := false
		for _, h := range stored {
			if s.hasher.Verify(ctx, h, *oldPW) == nil {
				ok = true
				break
			}
		}
		if !ok {
			s.log.Warn().Str("event", "security").Str("target", target.String()).Msg("password change with a wrong old password")
			return "", directory.Errorf(directory.ErrInvalidCredentials, "the old password is wrong")
		}
	}
	generated := ""
	if newPW == nil {
		g, err := password.Generate(s.rand)
		if err != nil {
			return "", err
		}
		generated, newPW = g, &g
	}
	if err := s.setPassword(ctx, id, target, *newPW); err != nil {
		return "", err
	}
	s.log.Info().Str("event", "security").Str("target", target.String()).Str("by", id.String()).Msg("password changed")
	return generated, nil
}

func (s *Service) setPassword(ctx context.Context, id Identity, target directory.DN, pw string) error {
	if pw == "" {
		return directory.Errorf(directory.ErrConstraintViolation, "empty password")
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.update(ctx, id, func(tx directory.WriteTx, sub acl.Subject) error {
		e, err := s.visibleEntry(tx, sub, target)
		if err != nil {
			return err
		}
		if !s.policy.IsAccount(e) {
			return directory.Errorf(directory.ErrUnwillingToPerform, target.String()+" is not an account")
		}
		if d := s.policy.Decide(sub, acl.OpModify, acl.Target{Entry: e}, []string{"userPassword"}); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		changes := []directory.Change{{Op: directory.ChangeReplace, Attr: "userPassword", Values: []string{hash}},
			{Op: directory.ChangeReplace, Attr: "modifyTimestamp", Values: []string{directory.FormatGeneralizedTime(s.now())}}}
		if sub.Kind == acl.Account {
			changes = append(changes, directory.Change{Op: directory.ChangeReplace, Attr: "modifiersName", Values: []string{sub.DN.String()}})
		}
		return tx.Modify(target, changes)
	})
}

// RecoverAccount sets a new random password on the account named name (a
// bare name, spn or DN) and returns it. It runs as root: it is for the local
// administrator, through the admin socket or on a stopped server's data.
func (s *Service) RecoverAccount(ctx context.Context, name string) (string, error) {
	pw, err := s.PasswordModify(ctx, RootIdentity(), name, nil, nil)
	if errors.Is(err, directory.ErrNoSuchObject) {
		return "", directory.Errorf(directory.ErrNoSuchObject, "no account named "+name)
	}
	return pw, err
}
