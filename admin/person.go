package admin

import (
	"context"
	"errors"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// Person is a person entry (uid=NAME,ou=people,BASE).
type Person struct {
	Name        string
	DN          string
	DisplayName string
	SPN         string
	UUID        string
	MemberOf    []string
	Entry       Entry // every attribute the server returned
}

func personFrom(e Entry) Person {
	return Person{
		Name:        e.Value("uid"),
		DN:          e.DN,
		DisplayName: e.Value("displayName"),
		SPN:         e.Value(directory.AttrSPN),
		UUID:        e.Value("entryUUID"),
		MemberOf:    e.Values("memberOf"),
		Entry:       e,
	}
}

func personOp(action, name string) op { return KindPerson.op(action, name) }

// personAdd builds the Add of a person: cn and sn (which the person class
// requires) are the name.
func personAdd(base directory.DN, name, displayName string) *ldap.AddRequest {
	req := ldap.NewAddRequest(personDN(base, name).String(), nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", classPerson, directory.ClassAccount})
	req.Attribute("uid", []string{name})
	req.Attribute("cn", []string{name})
	req.Attribute("sn", []string{name})
	if displayName != "" {
		req.Attribute("displayName", []string{displayName})
	}
	return req
}

// CreatePerson adds the person name and returns its DN.
func (c *Client) CreatePerson(ctx context.Context, name, displayName string) (string, error) {
	name, err := localName(name, c.domain)
	if err != nil {
		return "", err
	}
	return c.create(ctx, KindPerson, name, personAdd(c.base, name, displayName))
}

// GetPerson reads the person name.
func (c *Client) GetPerson(ctx context.Context, name string) (Person, error) {
	e, err := c.Get(ctx, KindPerson, name)
	return personFrom(e), err
}

// SetPassword sets the password of the person name with an RFC 3062
// Password Modify whose userIdentity is the person's DN. An empty
// newPassword asks the server to generate one, which is returned.
func (c *Client) SetPassword(ctx context.Context, name, newPassword string) (generated string, err error) {
	name, err = localName(name, c.domain)
	if err != nil {
		return "", err
	}
	req := ldap.NewPasswordModifyRequest(personDN(c.base, name).String(), "", newPassword)
	var res *ldap.PasswordModifyResult
	err = c.do(ctx, func() error {
		var err error
		res, err = c.conn.PasswordModify(req)
		return err
	})
	if err != nil {
		return "", c.fail(ctx, err, personOp("set the password of "+name, name))
	}
	if newPassword == "" {
		if res.GeneratedPassword == "" {
			return "", &Error{Msg: "the server returned no generated password for " + name, Err: errors.New("no genPasswd in the Password Modify response")}
		}
		return res.GeneratedPassword, nil
	}
	return "", nil
}

// DeletePerson deletes the person name.
func (c *Client) DeletePerson(ctx context.Context, name string) error {
	return c.remove(ctx, KindPerson, name)
}
