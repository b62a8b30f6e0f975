package idm

import (
	"context"
	"errors"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

// errPasswordChange is the one answer to a Password Modify that is not
// allowed: the caller may not change this account's password, or the old
// password it gave is wrong, or the pair is being throttled. One code and
// one message for all three, so that the answer never tells a caller who
// may not change a password whether its guess of the old one was right.
// insufficientAccessRights (50) rather than invalidCredentials (49):
// nothing about the connection's own bind is wrong, and 49 is what ldapd
// answers when a session must bind again.
func errPasswordChange() error {
	return directory.Errorf(directory.ErrInsufficientAccess,
		"password not changed: you may not change this account's password, or the old password is wrong")
}

// PasswordModify implements RFC 3062. user names the account (a DN, spn or
// bare name; empty: the bound account). When oldPW is given it must match.
// When newPW is nil a password is generated and returned.
//
// Whether id may change the target's password at all is decided first,
// with the policy a modify of userPassword gets; only then is oldPW
// checked, through the bind throttle (a refused pair is answered before
// any hash; a failure counts as a failed bind). A forbidden change and a
// wrong old password get the same answer (errPasswordChange).
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
		if d := s.policy.Decide(sub, acl.OpModify, acl.Target{Entry: e}, []string{"userPassword"}); !d.Allowed {
			secEvent(ctx, s.log.Warn()).Str("target", target.String()).Str("by", id.String()).
				Str("cause", d.Reason).Bool("old_password_given", oldPW != nil).Msg("password change refused")
			return errPasswordChange()
		}
		if !s.policy.IsAccount(e) {
			return directory.Errorf(directory.ErrUnwillingToPerform, target.String()+" is not an account")
		}
		stored = e.Get("userPassword")
		return nil
	})
	if err != nil {
		return "", err
	}
	if oldPW != nil {
		if err := s.checkOldPassword(ctx, id, target, stored, *oldPW); err != nil {
			return "", err
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
	secEvent(ctx, s.log.Info()).Str("target", target.String()).Str("by", id.String()).Msg("password changed")
	return generated, nil
}

// checkOldPassword verifies a Password Modify's old password as a bind
// would: through the throttle, keyed by the target account and the
// client's address, so that it is no faster a way to guess.
func (s *Service) checkOldPassword(ctx context.Context, id Identity, target directory.DN, stored []string, old string) error {
	addr := clientAddrOf(ctx)
	refuse := func(detail string) error {
		cause := CauseBadPassword // the bind vocabulary: this check is a bind's
		if strings.HasPrefix(detail, "throttled") {
			cause = CauseThrottled
		}
		ev := secEvent(ctx, s.log.Warn()).Str("target", target.String()).Str("by", id.String()).Str("cause", cause).Str("detail", detail)
		if addr != "" {
			ev = ev.Str("client", addr)
		}
		ev.Msg("password change refused")
		return errPasswordChange()
	}
	at, err := s.throttle.admit(ctx, addr, target.Norm())
	if err != nil {
		return refuse(err.Error())
	}
	if len(stored) == 0 {
		s.verifyDummy(ctx, []byte(old))
	} else if s.verifyStored(ctx, stored, old, nil) {
		at.succeed()
		return nil
	}
	at.fail()
	return refuse("the old password is wrong")
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
			return errPasswordChange()
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

// ErrNoDirectory is returned by RecoverOffline for a store that holds no
// directory yet (never started).
var ErrNoDirectory = errors.New("the store holds no directory yet")

// RecoverOffline is RecoverAccount on a stopped server's store and keys:
// it serves the store as the domain it was created for, sets a new random
// password on the account named name and returns it.
func RecoverOffline(ctx context.Context, store directory.Store, keys *tokens.Keyring, name string) (string, error) {
	domain, err := StoredDomain(ctx, store)
	if err != nil {
		return "", err
	}
	if domain == "" {
		return "", ErrNoDirectory
	}
	svc, err := New(Config{Store: store, Domain: domain, Keys: keys, Logger: zerolog.Nop()})
	if err != nil {
		return "", err
	}
	return svc.RecoverAccount(ctx, name)
}
