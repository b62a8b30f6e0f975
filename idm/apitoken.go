package idm

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/tokens"
)

// Token records are child entries of their service account:
//
//	ldapdTokenId=<uuid>,uid=<account>,ou=services,<base>
//
// holding the label, purpose, issue time, expiry and issuer, and no secret.
// Deleting the record (plain LDAP Delete) revokes the token.

// recordLookup lets the token verifier read records from the store.
type recordLookup struct{ s *Service }

func (r recordLookup) LookupToken(ctx context.Context, id tokens.ID) (tokens.Record, error) {
	return (&stateLookup{s: r.s}).LookupToken(ctx, id)
}

// stateLookup serves a token bind's verifier: it reads the token's record
// and its account in one read transaction, or takes both from the cache of
// the current store version (memo.go), and keeps them for the bind's own
// account checks.
type stateLookup struct {
	s  *Service
	st tokenState
}

func (r *stateLookup) LookupToken(ctx context.Context, id tokens.ID) (tokens.Record, error) {
	st, err := r.s.tokenState(ctx, id)
	if err != nil {
		return tokens.Record{}, fmt.Errorf("token %s: %w: %w", id, tokens.ErrRevoked, err)
	}
	r.st = st
	return st.rec, nil
}

// tokenState reads the record of token id and the account holding it, in
// one read transaction, or from the cache while the store is unchanged.
// Only found records are cached.
func (s *Service) tokenState(ctx context.Context, id tokens.ID) (tokenState, error) {
	ver, versioned := s.storeVersion()
	if versioned {
		if st, ok := s.tokens.get(id, ver); ok {
			return st, nil
		}
	}
	var st tokenState
	err := s.store.View(ctx, func(tx directory.ReadTx) error {
		rec, acct, err := s.tokenAccount(tx, id)
		if err != nil {
			return err
		}
		st.rec, err = recordFromEntry(rec)
		if err != nil {
			return err
		}
		st.rec.AccountUUID = entryUUID(acct)
		st.account, st.disabled = acct.DN, disabled(acct)
		return nil
	})
	if err != nil {
		return tokenState{}, err
	}
	if versioned {
		s.tokens.put(id, ver, st)
	}
	return st, nil
}

// tokenAccount finds the record of token id and the service account
// holding it.
func (s *Service) tokenAccount(tx directory.ReadTx, id tokens.ID) (*directory.Entry, *directory.Entry, error) {
	f := &directory.Filter{Kind: directory.FilterEquality, Attr: directory.AttrTokenID, Value: id.String()}
	if err := f.Resolve(s.schema); err != nil {
		return nil, nil, err
	}
	var rec *directory.Entry
	err := tx.Search(s.policy.Services, directory.ScopeSub, f, func(e *directory.Entry) error {
		rec = e
		return directory.ErrStop
	})
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, nil, directory.Errorf(directory.ErrNoSuchObject, "no record for token "+id.String())
	}
	acct, err := tx.Get(rec.DN.Parent())
	if err != nil {
		return nil, nil, err
	}
	return rec, acct, nil
}

func (s *Service) tokenRecordDN(account directory.DN, id tokens.ID) directory.DN {
	return account.Child(s.rdn(directory.AttrTokenID, id.String()))
}

// tokenRecordAt reads the token record whose DN is dn.
func (s *Service) tokenRecordAt(tx directory.ReadTx, dn directory.DN) (tokens.Record, error) {
	e, err := tx.Get(dn)
	if err != nil {
		return tokens.Record{}, err
	}
	return recordFromEntry(e)
}

func recordFromEntry(e *directory.Entry) (tokens.Record, error) {
	id, err := tokens.ParseID(e.First(directory.AttrTokenID))
	if err != nil {
		return tokens.Record{}, err
	}
	purpose, err := tokens.ParsePurpose(e.First(directory.AttrTokenPurpose))
	if err != nil {
		return tokens.Record{}, err
	}
	rec := tokens.Record{ID: id, Label: e.First(directory.AttrTokenLabel), Purpose: purpose, IssuedBy: e.First(directory.AttrTokenIssuedBy)}
	if rec.IssuedAt, err = directory.ParseGeneralizedTime(e.First(directory.AttrTokenIssuedAt)); err != nil {
		return tokens.Record{}, err
	}
	if v := e.First(directory.AttrTokenExpiry); v != "" {
		if rec.Expiry, err = directory.ParseGeneralizedTime(v); err != nil {
			return tokens.Record{}, err
		}
	}
	return rec, nil
}

func entryUUID(e *directory.Entry) [16]byte {
	u, err := uuid.Parse(e.First("entryUUID"))
	if err != nil {
		return [16]byte{}
	}
	return u
}

// GenerateToken issues an API token for the service account named by
// account (a DN, spn or bare name), as id. expiry zero means never. It
// returns the compact token, which is not stored anywhere, and its ID.
func (s *Service) GenerateToken(ctx context.Context, id Identity, account, label string, expiry time.Time, purpose tokens.Purpose) (string, tokens.ID, error) {
	if !expiry.IsZero() && !expiry.After(s.now()) {
		return "", tokens.ID{}, directory.Errorf(directory.ErrUnwillingToPerform,
			fmt.Sprintf("expiry %s is in the past", expiry.Format(time.RFC3339)))
	}
	if label == "" || len(label) > 256 {
		return "", tokens.ID{}, directory.Errorf(directory.ErrConstraintViolation, "a token needs a label of 1 to 256 characters")
	}
	var acctDN directory.DN
	var acctUUID [16]byte
	err := s.view(ctx, id, func(tx directory.ReadTx, sub acl.Subject) error {
		dn, err := s.resolveAccount(tx, account)
		if err != nil {
			return directory.Errorf(directory.ErrNoSuchObject, "no service account named "+account)
		}
		e, err := tx.Get(dn)
		if err != nil {
			return err
		}
		if !hasClass(e, directory.ClassServiceAccount) {
			return directory.Errorf(directory.ErrUnwillingToPerform, s.accountName(dn)+" is not a service account; API tokens are for service accounts")
		}
		acctDN, acctUUID = dn, entryUUID(e)
		return nil
	})
	if err != nil {
		return "", tokens.ID{}, err
	}
	issuedBy := ""
	if id.Kind == acl.Account {
		issuedBy = id.DN.String()
	}
	// Sign before the transaction: Update's closure may run more than once.
	token, rec, err := s.issuer.Issue(acctUUID, label, purpose, expiry, issuedBy)
	if err != nil {
		return "", tokens.ID{}, fmt.Errorf("issue token: %w", err)
	}
	err = s.update(ctx, id, func(tx directory.WriteTx, sub acl.Subject) error {
		acct, err := tx.Get(acctDN)
		if err != nil {
			return err
		}
		if entryUUID(acct) != acctUUID {
			return directory.Errorf(directory.ErrNoSuchObject, "service account was replaced")
		}
		e := s.tokenEntry(acctDN, rec)
		if d := s.policy.Decide(sub, acl.OpAdd, acl.Target{Entry: e, Account: acct}, nil); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		s.stampNew(e, sub)
		if _, err := s.schema.Check(e); err != nil {
			return err
		}
		return tx.Add(e)
	})
	if err != nil {
		return "", tokens.ID{}, err
	}
	s.log.Info().Str("event", "security").Str("token_id", rec.ID.String()).Str("account", acctDN.String()).
		Str("purpose", purpose.String()).Str("issued_by", id.String()).Msg("API token issued")
	s.tokenIssued()
	return token, rec.ID, nil
}

func (s *Service) tokenEntry(account directory.DN, rec tokens.Record) *directory.Entry {
	e := directory.NewEntry(s.tokenRecordDN(account, rec.ID))
	e.Set("objectClass", "top", directory.ClassAPIToken)
	e.Set(directory.AttrTokenID, rec.ID.String())
	e.Set(directory.AttrTokenLabel, rec.Label)
	e.Set(directory.AttrTokenPurpose, rec.Purpose.String())
	e.Set(directory.AttrTokenIssuedAt, directory.FormatGeneralizedTime(rec.IssuedAt))
	if !rec.Expiry.IsZero() {
		e.Set(directory.AttrTokenExpiry, directory.FormatGeneralizedTime(rec.Expiry))
	}
	if rec.IssuedBy != "" {
		e.Set(directory.AttrTokenIssuedBy, rec.IssuedBy)
	}
	return e
}
