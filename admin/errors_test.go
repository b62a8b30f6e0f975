package admin

import (
	"context"
	"errors"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestExplain(t *testing.T) {
	sa := serviceAccountOp("generate API tokens for demo_service", "demo_service")
	tests := []struct {
		name  string
		err   error
		o     op
		bound string
		want  string
		kind  error
	}{
		{"no such object", ldap.NewError(32, errors.New("")), sa, "demo_user",
			"no service account named demo_service", ErrNotFound},
		{"already exists", ldap.NewError(68, errors.New("entry exists")),
			serviceAccountOp("create service account demo_service", "demo_service"), "idm_admin",
			"a service account named demo_service already exists", ErrAlreadyExists},
		{"denied with the server's reason", ldap.NewError(50, errors.New("demo_user may not manage demo_service: not a member of demo_group")),
			sa, "demo_user", "demo_user may not manage demo_service: not a member of demo_group", ErrNotAllowed},
		{"denied without a reason", ldap.NewError(50, errors.New("")), sa, "demo_user",
			"demo_user is not allowed to generate API tokens for demo_service", ErrNotAllowed},
		{"denied anonymous", ldap.NewError(50, errors.New("")), op{action: "list service accounts"}, "",
			"an anonymous client is not allowed to list service accounts", ErrNotAllowed},
		{"constraint", ldap.NewError(19, errors.New("expiry is in the past")), sa, "demo_user",
			"the server refused to generate API tokens for demo_service: constraint violation (LDAP result 19): expiry is in the past", nil},
		{"unwilling", ldap.NewError(53, errors.New("")), groupOp("delete group idm_admins", "idm_admins"), "idm_admin",
			"the server refused to delete group idm_admins: unwilling to perform (LDAP result 53)", nil},
		{"no such object without kind", ldap.NewError(32, errors.New("")), op{action: "list service accounts"}, "x",
			"cannot list service accounts: no such entry", ErrNotFound},
		{"network", ldap.NewError(ldap.ErrorNetwork, errors.New("connection reset")), sa, "x",
			"cannot generate API tokens for demo_service: lost the connection to the server (connection reset)", nil},
		{"other code", ldap.NewError(80, errors.New("internal error")), sa, "x",
			"cannot generate API tokens for demo_service: other (LDAP result 80): internal error", nil},
		{"not an LDAP error", errors.New("boom"), sa, "x", "cannot generate API tokens for demo_service: boom", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := explain(tc.err, tc.o, tc.bound)
			if err.Error() != tc.want {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tc.want)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(err, %v) = false", tc.kind)
			}
			for _, other := range []error{ErrNotFound, ErrAlreadyExists, ErrNotAllowed, ErrAuthFailed} {
				if other != tc.kind && errors.Is(err, other) {
					t.Errorf("errors.Is(err, %v) = true", other)
				}
			}
			if !errors.Is(err, tc.err) {
				t.Error("the cause is not wrapped")
			}
			var le *ldap.Error
			if errors.As(tc.err, &le) && !ldap.IsErrorWithCode(err, le.ResultCode) {
				t.Error("ldap.IsErrorWithCode does not see the result code")
			}
		})
	}
	if explain(nil, sa, "x") != nil {
		t.Error("explain(nil) != nil")
	}
}

func TestCtxErr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ctxErr(ctx, ldap.NewError(ldap.ErrorNetwork, errors.New("closed")), op{action: "list service accounts"})
	if !errors.Is(err, context.Canceled) || err.Error() != "cannot list service accounts: context canceled" {
		t.Errorf("got %v", err)
	}
	if ctxErr(context.Background(), errors.New("x"), op{}) != nil {
		t.Error("live context reported")
	}
}
