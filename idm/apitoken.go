package idm

import (
	"context"
	"fmt"
	"strings"
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

// tokenState reads the record of token id held by the service account
// whose entryUUID is account, and that account, in one read transaction,
// or from the cache while the store is unchanged. Only found records are
// cached.
func (s *Service) tokenState(ctx context.Context, id tokens.ID, account [16]byte) (tokenState, error) {
	ver, versioned := s.storeVersion()
	if versioned {
		// The cache is keyed by token ID alone; an entry for another
		// account is a miss, and the read below replaces it.
		if st, ok := s.tokens.get(id, ver); ok && st.rec.AccountUUID == account {
			return st, nil
		}
	}
	var st tokenState
	err := s.store.View(ctx, func(tx directory.ReadTx) error {
		rec, acct, err := s.tokenAccount(tx, id, account)
		if err != nil {
			return err
		}
		st.rec, err = recordFromEntry(rec)
		if err != nil {
			return err
		}
		st.rec.AccountUUID = entryUUID(acct)
		st.account, st.disabled = acct.DN, disabled(acct)
		st.desc, st.authz = tokenIdentityString(acct.DN, id), s.authzID(acct.DN)
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
// holding it, by the two keys the token's signed claims carry: the
// account's entryUUID and the token ID. The account is the one service
// account (an ldapdServiceAccount directly under ou=services) with that
// entryUUID; the record is its child ldapdTokenId=<id>, and must be an
// ldapdApiToken whose ldapdTokenId is id.
//
// Nothing else is looked at. In particular an ldapdTokenId value on any
// other entry (another account's record, the wrong depth, the wrong class)
// can neither revoke the token nor stand in for its record: the token ID
// is not a secret, and ldapdTokenId is a plain attribute that root or an
// import may write anywhere. Two service accounts sharing an entryUUID
// (only an import can do that) fail closed.
func (s *Service) tokenAccount(tx directory.ReadTx, id tokens.ID, account [16]byte) (*directory.Entry, *directory.Entry, error) {
	acct, err := s.serviceAccountByUUID(tx, account)
	if err != nil {
		return nil, nil, err
	}
	rec, err := s.tokenRecordEntry(tx, acct.DN, id)
	if err != nil {
		return nil, nil, err
	}
	return rec, acct, nil
}

// serviceAccountByUUID finds the service account whose entryUUID is u:
// one index read, one level below ou=services.
func (s *Service) serviceAccountByUUID(tx directory.ReadTx, u [16]byte) (*directory.Entry, error) {
	f := &directory.Filter{Kind: directory.FilterEquality, Attr: "entryUUID", Value: uuid.UUID(u).String()}
	if err := f.Resolve(s.schema); err != nil {
		return nil, err
	}
	var found []*directory.Entry
	err := tx.Search(s.policy.Services, directory.ScopeOne, f, func(e *directory.Entry) error {
		if s.policy.KindOf(e) == acl.KindServiceAccount && entryUUID(e) == u {
			found = append(found, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, directory.Errorf(directory.ErrNoSuchObject, "no service account with entryUUID "+uuid.UUID(u).String())
	case 1:
		return found[0], nil
	}
	return nil, directory.Errorf(directory.ErrNoSuchObject,
		fmt.Sprintf("%d service accounts share entryUUID %s", len(found), uuid.UUID(u).String()))
}

// tokenRecordEntry reads the record of token id under the service account
// at account: the entry ldapdTokenId=<id>,<account>, which must be a token
// record (acl.KindToken) naming id. Anything else there is no record.
func (s *Service) tokenRecordEntry(tx directory.ReadTx, account directory.DN, id tokens.ID) (*directory.Entry, error) {
	rec, err := tx.Get(s.tokenRecordDN(account, id))
	if err != nil {
		return nil, err
	}
	if s.policy.KindOf(rec) != acl.KindToken {
		return nil, directory.Errorf(directory.ErrNoSuchObject, rec.DN.String()+" is not a token record")
	}
	if got := rec.Get(directory.AttrTokenID); len(got) != 1 || !strings.EqualFold(got[0], id.String()) {
		return nil, directory.Errorf(directory.ErrNoSuchObject, rec.DN.String()+" does not name token "+id.String())
	}
	return rec, nil
}

func (s *Service) tokenRecordDN(account directory.DN, id tokens.ID) directory.DN {
	return account.Child(s.rdn(directory.AttrTokenID, id.String()))
}

// tokenRecordAt reads the record of token id under the account at
// account, as tokenRecordEntry checks it.
func (s *Service) tokenRecordAt(tx directory.ReadTx, account directory.DN, id tokens.ID) (tokens.Record, error) {
	e, err := s.tokenRecordEntry(tx, account, id)
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
		if s.policy.KindOf(e) != acl.KindServiceAccount {
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
		// Counted in the write transaction, so concurrent generates
		// cannot overshoot together.
		if err := s.checkTokenCap(tx, acctDN); err != nil {
			return err
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
	secEvent(ctx, s.log.Info()).Str("token_id", rec.ID.String()).Str("account", acctDN.String()).
		Str("purpose", purpose.String()).Str("issued_by", id.String()).Msg("API token issued")
	s.tokenIssued()
	return token, rec.ID, nil
}

// DefaultMaxTokensPerAccount is the default of Config.MaxTokensPerAccount.
const DefaultMaxTokensPerAccount = 500

// checkTokenCap refuses a new token for the service account at account
// when it already holds Config.MaxTokensPerAccount token records. Without
// a cap, a manager can bury a token among more records than a search
// returns, out of sight of the audit that `api-token status` is. The
// count stops at the cap, so the check costs at most that many reads.
func (s *Service) checkTokenCap(tx directory.ReadTx, account directory.DN) error {
	limit := s.cfg.MaxTokensPerAccount
	f := &directory.Filter{Kind: directory.FilterEquality, Attr: "objectClass", Value: directory.ClassAPIToken}
	if err := f.Resolve(s.schema); err != nil {
		return err
	}
	n := 0
	err := tx.Search(account, directory.ScopeOne, f, func(e *directory.Entry) error {
		if s.policy.KindOf(e) == acl.KindToken {
			if n++; n >= limit {
				return directory.ErrStop
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count the tokens of %s: %w", account, err)
	}
	if n >= limit {
		return directory.Errorf(directory.ErrAdminLimitExceeded, fmt.Sprintf(
			"%s already holds the most API tokens a service account may have (%d, --max-tokens-per-account); destroy tokens it no longer needs (ldapd service-account api-token destroy) before generating more",
			s.accountName(account), limit))
	}
	return nil
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
