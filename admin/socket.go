package admin

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// RecoverAccount asks the server on its owner-only admin socket sock
// (DATA/ldapd.sock, whose clients act as root) for a new random password
// for the account name (a bare name, an spn or a DN), with a Password
// Modify that carries no new password, and returns the password the server
// generated. With no server listening on sock, the error matches
// ErrUnreachable (a stopped server's data can be opened directly instead);
// an unknown account matches ErrNotFound.
func RecoverAccount(ctx context.Context, sock, name string) (string, error) {
	unreachable := func(err error) error {
		return &Error{Msg: fmt.Sprintf("no server on %s: %v", sock, err), Err: err, kind: ErrUnreachable}
	}
	nc, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "unix", sock)
	if err != nil {
		return "", unreachable(err)
	}
	nc.Close()
	conn, err := ldap.DialURL("ldapi://" + url.PathEscape(sock))
	if err != nil {
		return "", unreachable(err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	res, err := conn.PasswordModify(ldap.NewPasswordModifyRequest(name, "", ""))
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return "", &Error{Msg: "no account named " + name, Err: err, kind: ErrNotFound}
		}
		return "", &Error{Msg: fmt.Sprintf("recover %s through the running server: %v", name, err), Err: err}
	}
	return res.GeneratedPassword, nil
}
