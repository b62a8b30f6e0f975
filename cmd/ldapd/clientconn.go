package main

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/admin/output"
)

// clientFlags are the flags every client command takes.
type clientFlags struct {
	name         string
	passwordFile string
	url          string
	ca           string
	output       string
}

func (cf *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&cf.name, "name", "", "authenticate as `NAME`: a bare name such as idm_admin, an spn or a DN (required)")
	fs.StringVar(&cf.passwordFile, "password-file", "", "read the password of --name from the first line of `FILE`")
	fs.StringVar(&cf.url, "url", "", "the server's `URL`: ldaps://HOST:PORT, or ldap://HOST:PORT with StartTLS\n(default $LDAPD_URL, else "+admin.DefaultURL+")")
	fs.StringVar(&cf.ca, "ca", "", "trust the CA certificates in the PEM `FILE` (default $LDAPD_CA, else\n"+admin.DefaultCAFile+" if it exists, else the system's roots)")
	fs.StringVarP(&cf.output, "output", "o", output.FormatText, "print `FORMAT`: text or json")
}

const clientEnvHelp = `  LDAPD_PASSWORD  the password of the --name account, when --password-file is not given;
                  without either, the password is asked on the terminal. There is no
                  password flag: command lines are visible to other users (ps).
  LDAPD_URL       the server's URL, when --url is not given
  LDAPD_CA        the CA certificate file, when --ca is not given
`

// check validates the shared flags after parsing.
func (cf *clientFlags) check() error {
	if cf.output != output.FormatText && cf.output != output.FormatJSON {
		return fmt.Errorf("unknown output format %q: want text or json", cf.output)
	}
	if cf.name == "" {
		return errors.New("--name NAME is required: the account to authenticate as (for example --name idm_admin)")
	}
	return nil
}

// config builds the admin.Config from flags, environment and defaults.
func (cf *clientFlags) config(e *env) admin.Config {
	return admin.NewConfig(cmp.Or(cf.url, e.getenv("LDAPD_URL")), cmp.Or(cf.ca, e.getenv("LDAPD_CA")))
}

// bindPassword finds the password of --name without prompting (secret).
func (inv *invocation) bindPassword(e *env) (pw string, prompt bool, err error) {
	return inv.secret(e, inv.client.passwordFile, "LDAPD_PASSWORD",
		"no password for "+inv.client.name+": set LDAPD_PASSWORD, pass --password-file FILE, or run on a terminal to be asked")
}

// secret finds a password without prompting: the first line of file, else
// the environment variable env. When neither is given, prompt is true if
// stdin is a terminal; otherwise it is the usage error none, which says
// how to give one.
func (inv *invocation) secret(e *env, file, env, none string) (pw string, prompt bool, err error) {
	if file != "" {
		pw, err := admin.ReadPasswordFile(file)
		return pw, false, err
	}
	if pw := e.getenv(env); pw != "" {
		return pw, false, nil
	}
	if e.isTerminal() {
		return "", true, nil
	}
	return "", false, inv.usageErr("%s", none)
}

// withClient connects, authenticates as --name and runs fn with the client.
func (inv *invocation) withClient(ctx context.Context, e *env, fn func(*admin.Client) error) error {
	pw, prompt, err := inv.bindPassword(e)
	if err != nil {
		return err
	}
	cfg := inv.client.config(e)
	c, err := admin.Dial(ctx, cfg)
	if err != nil {
		return dialHint(err, cfg.URL, cfg.Trusted())
	}
	defer c.Close()
	name := inv.client.name
	if prompt {
		if pw, err = e.readPassword(fmt.Sprintf("Password for %s: ", name)); err != nil {
			return err
		}
	}
	if err := c.Bind(ctx, name, pw); err != nil {
		return bindHint(err, name)
	}
	inv.out = inv.printer(e, c)
	return fn(c)
}

// dialHint adds to a connection failure what the user can do about it.
func dialHint(err error, url, trust string) error {
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &admin.Error{Msg: fmt.Sprintf("cannot reach the server at %s: is `ldapd serve` running? (connection refused; set --url or LDAPD_URL for another server)", url), Err: err}
	case errors.Is(err, admin.ErrUnreachable):
		return &admin.Error{Msg: err.Error() + " (check --url or LDAPD_URL)", Err: err}
	case errors.As(err, &unknown):
		return &admin.Error{Msg: fmt.Sprintf("%v: set LDAPD_CA or --ca to the server's CA certificate, %s in the server's data directory (trusted now: %s)", err, admin.DefaultCAFile, trust), Err: err}
	case errors.Is(err, admin.ErrUntrusted):
		return &admin.Error{Msg: fmt.Sprintf("%v (trusted now: %s)", err, trust), Err: err}
	}
	return err
}

// bindHint adds how to recover from a wrong password.
func bindHint(err error, name string) error {
	if errors.Is(err, admin.ErrAuthFailed) {
		return &admin.Error{Msg: fmt.Sprintf("%v (reset it with: ldapd recover-account %s)", err, name), Err: err}
	}
	return err
}
