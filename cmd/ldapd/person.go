package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/admin/output"
	"github.com/ldapd/ldapd/internal/cli"
)

func personCmd(e *env) *cobra.Command {
	cf := &clientFlags{}
	return clientGroup(cf, cli.Group("person", "manage people", `
Manage people, over LDAP, as the account named by --name. A person is an
entry uid=NAME,ou=people under the base DN (classes inetOrgPerson and
ldapdAccount). Members of idm_people_admins (idm_admin by default) may
create, delete and set the passwords of people.`,
		personCreateCmd(e, cf),
		personGetCmd(e, cf),
		personSetPasswordCmd(e, cf),
		personDeleteCmd(e, cf),
		personPosixCmd(e, cf),
	))
}

func personCreateCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "create", min: 2, max: 2,
		usage:   "NAME DISPLAY_NAME --name NAME",
		summary: "create a person",
		desc: `
Create the person NAME (uid=NAME,ou=people under the base DN, with cn and sn
set to NAME) with the display name DISPLAY_NAME. The person has no password
until one is set with "person set-password".`,
		args: [][2]string{
			{"NAME", "the person's login name (uid)"},
			{"DISPLAY_NAME", "the person's full name, quoted if it has spaces"},
		},
		examples: []string{
			`ldapd person create demo_user "Demonstration User" --name idm_admin`,
			`ldapd person set-password demo_user --name idm_admin`,
		},
		check: displayNameSet(1),
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		dn, err := c.CreatePerson(ctx, inv.args[0], inv.args[1])
		return inv.done(err, output.Outcome{Result: "created", Kind: "person", Name: inv.args[0], DN: dn})
	})
}

func personGetCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "get", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "show a person",
		desc: `
Show the person NAME: its DN, then one "attribute: value" line per value (the
attributes --name may read, with entryUUID, spn and memberOf), attributes in
alphabetical order. With -o json: {"dn": DN, "attributes": {NAME: [VALUES]}}.`,
		args: [][2]string{{"NAME", "the person's name, or spn"}},
		examples: []string{
			"ldapd person get demo_user --name idm_admin",
			"ldapd person get demo_user --name idm_admin -o json",
		},
	}, nil, showEntry(admin.KindPerson))
}

func personSetPasswordCmd(e *env, cf *clientFlags) *cobra.Command {
	var file, newPW string
	var generate, prompt bool
	return clientCommand(e, cf, &cmdSpec{
		name: "set-password", min: 1, max: 1,
		usage:   "NAME [--new-password-file FILE | --generate] --name NAME",
		summary: "set a person's password",
		desc: `
Set the password of the person NAME, with the LDAP Password Modify operation
(RFC 3062). The new password comes from, in order: --generate (the server
generates one, printed alone on standard output), --new-password-file (its
first line), $LDAPD_NEW_PASSWORD, or a prompt on the terminal (asked twice).
Like the password of --name, it is never a flag value.`,
		args: [][2]string{{"NAME", "the person's name, or spn"}},
		examples: []string{
			"ldapd person set-password demo_user --name idm_admin",
			"ldapd person set-password demo_user --new-password-file ./pw.txt --name idm_admin",
			"PW=$(ldapd person set-password demo_user --generate --name idm_admin)",
		},
		check: func(inv *invocation) (err error) {
			if file != "" && generate {
				return inv.usageErr("give --new-password-file or --generate, not both")
			}
			newPW, prompt, err = inv.newPassword(e, file, generate)
			return err
		},
	}, func(fs *pflag.FlagSet) {
		fs.StringVar(&file, "new-password-file", "", "read the new password from the first line of `FILE`")
		fs.BoolVar(&generate, "generate", false, "let the server generate the password, and print it")
	}, func(ctx context.Context, inv *invocation, c *admin.Client) (err error) {
		name := inv.args[0]
		if prompt {
			if newPW, err = promptNewPassword(e, name); err != nil {
				return err
			}
		}
		generated, err := c.SetPassword(ctx, name, newPW)
		if err != nil {
			return err
		}
		return inv.out.PasswordSet(name, generated)
	})
}

// newPassword finds the new password without prompting (secret). It
// returns "" for --generate, and prompt=true when it must be asked on the
// terminal.
func (inv *invocation) newPassword(e *env, file string, generate bool) (pw string, prompt bool, err error) {
	if generate {
		return "", false, nil
	}
	return inv.secret(e, file, "LDAPD_NEW_PASSWORD",
		"no new password: set LDAPD_NEW_PASSWORD, pass --new-password-file FILE or --generate, or run on a terminal to be asked")
}

// promptNewPassword asks for the new password of name on the terminal,
// twice (cli.PromptNewPassword).
func promptNewPassword(e *env, name string) (string, error) {
	return cli.PromptNewPassword(e.readPassword, name)
}

func personDeleteCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "delete", min: 1, max: 1,
		usage:    "NAME --name NAME",
		summary:  "delete a person",
		desc:     `Delete the person NAME.`,
		args:     [][2]string{{"NAME", "the person's name, or spn"}},
		examples: []string{"ldapd person delete demo_user --name idm_admin"},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		return inv.done(c.DeletePerson(ctx, inv.args[0]), output.Outcome{Result: "deleted", Kind: "person", Name: inv.args[0]})
	})
}
