package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/admin/output"
	"github.com/ldapd/ldapd/internal/cli"
)

func serviceAccountCmd(e *env) *cobra.Command {
	cf := &clientFlags{}
	return clientGroup(cf, cli.Group("service-account", "manage service accounts and their API tokens", `
Manage service accounts and their API tokens, over LDAP, as the account named
by --name. A service account is an entry uid=ACCOUNT_ID,ou=services under the
base DN; members of the group (or the account) named in its entryManagedBy
may read and update it and manage its API tokens. Applications bind with a
token as the password of the DN "dn=token".`,
		serviceAccountCreateCmd(e, cf),
		serviceAccountGetCmd(e, cf),
		serviceAccountListCmd(e, cf),
		serviceAccountUpdateCmd(e, cf),
		serviceAccountDeleteCmd(e, cf),
		apiTokenCmd(e, cf),
	))
}

func apiTokenCmd(e *env, cf *clientFlags) *cobra.Command {
	return cli.Group("api-token", "list, generate and destroy API tokens", `
Manage the API tokens of a service account. A token is a signed string an
application uses as the password of a simple bind to "dn=token"; it then acts
as the service account (read-only unless generated with --rw). The server
keeps a record of each token (id, label, purpose, issue time, expiry, issuer)
but never the token itself.`,
		tokenStatusCmd(e, cf),
		tokenGenerateCmd(e, cf),
		tokenDestroyCmd(e, cf),
	)
}

const managedByHelp = `a group or an account: a bare name (demo_group), an spn
(demo_group@idm.example.com) or a DN`

func serviceAccountCreateCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "create", min: 3, max: 3,
		usage:   "ACCOUNT_ID DISPLAY_NAME ENTRY_MANAGED_BY --name NAME",
		summary: "create a service account managed by a group or an account",
		desc: `
Create the service account ACCOUNT_ID (uid=ACCOUNT_ID,ou=services under the
base DN) and delegate its management to ENTRY_MANAGED_BY: members of that
group (or that account) may then read and update the service account and
manage its API tokens. Only members of idm_service_account_admins (idm_admin
by default) may create service accounts.`,
		args: [][2]string{
			{"ACCOUNT_ID", "the service account's name (its uid)"},
			{"DISPLAY_NAME", "a human-readable name, quoted if it has spaces"},
			{"ENTRY_MANAGED_BY", managedByHelp},
		},
		examples: []string{
			`ldapd service-account create demo_service "Demonstration Service" demo_group --name idm_admin`,
			`ldapd service-account create --name idm_admin backup_job "Nightly backup" idm_admin`,
		},
		check: displayNameSet(1),
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		dn, err := c.CreateServiceAccount(ctx, inv.args[0], inv.args[1], inv.args[2])
		return inv.done(err, output.Outcome{Result: "created", Kind: "service-account", Name: inv.args[0], DN: dn})
	})
}

func serviceAccountGetCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "get", min: 1, max: 1,
		usage:   "ACCOUNT_ID --name NAME",
		summary: "show a service account",
		desc: `
Show the service account ACCOUNT_ID: its DN, then one "attribute: value" line
per value (its attributes, with entryUUID, spn and memberOf), attributes in
alphabetical order. With -o json: {"dn": DN, "attributes": {NAME: [VALUES]}}.`,
		args: [][2]string{{"ACCOUNT_ID", "the service account's name, or its spn"}},
		examples: []string{
			"ldapd service-account get demo_service --name idm_admin",
			"ldapd service-account get demo_service --name demo_user -o json",
		},
	}, nil, showEntry(admin.KindServiceAccount))
}

func serviceAccountListCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "list", min: 0, max: 0,
		usage:   "--name NAME",
		summary: "list the service accounts",
		desc: `
List the service accounts that the account named by --name may see, sorted by
name, each in the format of "service-account get", separated by blank lines.
With -o json: an array of {"dn": DN, "attributes": {...}} objects.`,
		examples: []string{
			"ldapd service-account list --name idm_admin",
			"ldapd service-account list --name idm_admin -o json | jq -r '.[].attributes.uid[0]'",
		},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		sas, err := c.ListServiceAccounts(ctx)
		if err != nil {
			return err
		}
		es := make([]admin.Entry, len(sas))
		for i, sa := range sas {
			es[i] = sa.Entry
		}
		return inv.out.Entries(es, "no service accounts (that "+inv.client.name+" may see)")
	})
}

func serviceAccountUpdateCmd(e *env, cf *clientFlags) *cobra.Command {
	var display string
	var manager string
	return clientCommand(e, cf, &cmdSpec{
		name: "update", min: 1, max: 1,
		usage:   "ACCOUNT_ID [--displayname X] [--entry-managed-by G] --name NAME",
		summary: "change a service account's display name or manager",
		desc: `
Change the display name and/or the manager (entryManagedBy) of the service
account ACCOUNT_ID; give at least one of the two flags. Members of the
account's managing group may change its display name; changing its manager
takes idm_service_account_admins, or idm_access_control_admins if the
service account is a member of idm_high_privilege.`,
		args: [][2]string{{"ACCOUNT_ID", "the service account's name, or its spn"}},
		examples: []string{
			`ldapd service-account update demo_service --displayname "Demo Service" --name demo_user`,
			"ldapd service-account update demo_service --entry-managed-by other_group --name idm_admin",
		},
		check: func(inv *invocation) error {
			if display == "" && manager == "" {
				return inv.usageErr("nothing to change: give --displayname and/or --entry-managed-by")
			}
			return nil
		},
	}, func(fs *pflag.FlagSet) {
		fs.StringVar(&display, "displayname", "", "set the display name to `X`")
		fs.StringVar(&manager, "entry-managed-by", "", "set the manager to `G`: "+managedByHelp)
	}, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		err := c.UpdateServiceAccount(ctx, inv.args[0], admin.ServiceAccountUpdate{DisplayName: display, EntryManagedBy: manager})
		return inv.done(err, output.Outcome{Result: "updated", Kind: "service-account", Name: inv.args[0]})
	})
}

func serviceAccountDeleteCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "delete", min: 1, max: 1,
		usage:   "ACCOUNT_ID --name NAME",
		summary: "delete a service account and its API tokens",
		desc: `
Delete the service account ACCOUNT_ID. Its API tokens are revoked with it:
their records are deleted too. Only members of idm_service_account_admins may
delete service accounts.`,
		args:     [][2]string{{"ACCOUNT_ID", "the service account's name, or its spn"}},
		examples: []string{"ldapd service-account delete demo_service --name idm_admin"},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		return inv.done(c.DeleteServiceAccount(ctx, inv.args[0]), output.Outcome{Result: "deleted", Kind: "service-account", Name: inv.args[0]})
	})
}

func tokenStatusCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "status", min: 1, max: 1,
		usage:   "ACCOUNT_ID --name NAME",
		summary: "list a service account's API tokens",
		desc: `
List the API tokens of the service account ACCOUNT_ID, oldest first, as blocks
of lines separated by blank lines:

  token_id: 4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7
  label: Test Token
  purpose: read-only
  issued_at: 2026-03-01T22:00:00+10:00
  expiry: never
  issued_by: demo_user

Times are RFC 3339 in the local time zone; expiry is "never" for a token
without one. With no tokens, a notice goes to standard error and nothing to
standard output. With -o json: an array of objects with the keys token_id,
label, purpose, issued_at, expiry (null for never), issued_by and
issued_by_dn. The tokens themselves are never shown again.`,
		args: [][2]string{{"ACCOUNT_ID", "the service account's name, or its spn"}},
		examples: []string{
			"ldapd service-account api-token status --name demo_user demo_service",
			"ldapd service-account api-token status demo_service --name demo_user -o json",
		},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		ts, err := c.TokenStatus(ctx, inv.args[0])
		if err != nil {
			return err
		}
		return inv.out.Tokens(inv.args[0], ts)
	})
}

func tokenGenerateCmd(e *env, cf *clientFlags) *cobra.Command {
	var rw bool
	return clientCommand(e, cf, &cmdSpec{
		name: "generate", min: 2, max: 3,
		usage:   "ACCOUNT_ID LABEL [EXPIRY] [--rw] --name NAME",
		summary: "generate an API token and print it once",
		desc: `
Generate an API token for the service account ACCOUNT_ID and print it on
standard output, alone on one line, so that TOKEN=$(ldapd ...) captures it.
The token is shown this once: the server stores only its record (see
"api-token status"). A notice with the token id goes to standard error.
With -o json: {"token": TOKEN, "token_id": ID}.

Tokens are read-only unless --rw is given: a read-only token gets the
service account's read rights and any write with it is refused. Add --rw
only when the application writes.

Use the token as the password of a simple bind to the DN "dn=token":

  ldapwhoami -H ldaps://localhost:3636 -x -D "dn=token" -w "$TOKEN"`,
		args: [][2]string{
			{"ACCOUNT_ID", "the service account's name, or its spn"},
			{"LABEL", "what the token is for, shown by status (quoted if it has spaces)"},
			{"EXPIRY", "optional: when the token stops working, in RFC 3339 with a UTC offset,\nsuch as " + admin.ExpiryLayout + "; without it the token never expires"},
		},
		examples: []string{
			`ldapd service-account api-token generate --name demo_user demo_service "Test Token"`,
			`ldapd service-account api-token generate --name demo_user demo_service "Test Token" 2030-09-25T11:22:02+10:00 --rw`,
			`TOKEN=$(ldapd service-account api-token generate --name demo_user demo_service "CI job")`,
		},
		check: func(inv *invocation) error {
			if inv.args[1] == "" {
				return inv.usageErr("LABEL must not be empty")
			}
			if expiry := inv.arg(2); expiry != "" {
				// Checked here too, before asking for a password; the server checks again.
				if _, err := admin.ParseExpiry(expiry, time.Now()); errors.Is(err, admin.ErrExpiryFormat) {
					return inv.usageErr("%v", err)
				} else if err != nil {
					return err
				}
			}
			return nil
		},
	}, func(fs *pflag.FlagSet) {
		fs.BoolVar(&rw, "rw", false, "generate a read-write token (default: read-only)")
	}, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		account := inv.args[0]
		g, err := c.GenerateToken(ctx, account, admin.TokenRequest{Label: inv.args[1], Expiry: inv.arg(2), ReadWrite: rw})
		if err != nil {
			return err
		}
		return inv.out.Generated(account, g)
	})
}

func tokenDestroyCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "destroy", min: 2, max: 2,
		usage:   "ACCOUNT_ID TOKEN_ID --name NAME",
		summary: "revoke an API token",
		desc: `
Revoke the API token TOKEN_ID of the service account ACCOUNT_ID by deleting
its record. It takes effect at once: the next bind with the token fails, and
so does the next operation on a connection already bound with it. Find token
ids with "api-token status".`,
		args: [][2]string{
			{"ACCOUNT_ID", "the service account's name, or its spn"},
			{"TOKEN_ID", "the token's id, a UUID shown by status and by generate"},
		},
		examples: []string{
			"ldapd service-account api-token status --name demo_user demo_service",
			"ldapd service-account api-token destroy --name demo_user demo_service 4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7",
		},
		check: func(inv *invocation) error {
			if !admin.ValidTokenID(inv.args[1]) {
				return inv.usageErr("%q is not a token id: token ids are UUIDs such as 4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7 (see api-token status)", inv.args[1])
			}
			return nil
		},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		account, id := inv.args[0], inv.args[1]
		return inv.done(c.DestroyToken(ctx, account, id), output.Outcome{Result: "destroyed", Kind: "api-token", Name: id, Account: account})
	})
}
