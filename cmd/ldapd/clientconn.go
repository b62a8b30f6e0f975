package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/admin/output"
)

// defaultCAFile is the CA certificate `ldapd serve` generates in its data
// directory; the client trusts it by default when it exists relative to
// the working directory (as after `make run` in the same checkout).
const defaultCAFile = "data/tls/ca.pem"

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
	fs.StringVar(&cf.ca, "ca", "", "trust the CA certificates in the PEM `FILE` (default $LDAPD_CA, else\n"+defaultCAFile+" if it exists, else the system's roots)")
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

// config builds the admin.Config from flags, environment and defaults, and
// says which certificates it trusts (for error messages).
func (cf *clientFlags) config(e *env) (cfg admin.Config, trust string) {
	cfg.URL = firstNonEmpty(cf.url, e.getenv("LDAPD_URL"), admin.DefaultURL)
	cfg.CAFile = firstNonEmpty(cf.ca, e.getenv("LDAPD_CA"))
	if cfg.CAFile == "" {
		if st, err := os.Stat(defaultCAFile); err == nil && st.Mode().IsRegular() {
			cfg.CAFile = defaultCAFile
		}
	}
	trust = "the system's root certificates"
	if cfg.CAFile != "" {
		trust = "the CA certificate in " + cfg.CAFile
	}
	return cfg, trust
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// bindPassword finds the password of --name without prompting: the first
// line of --password-file, else $LDAPD_PASSWORD. When neither is given,
// prompt is true if stdin is a terminal; otherwise it is a usage error that
// says how to give one.
func (inv *invocation) bindPassword(e *env) (pw string, prompt bool, err error) {
	cf := inv.client
	if cf.passwordFile != "" {
		pw, err := readPasswordFile(cf.passwordFile)
		return pw, false, err
	}
	if pw := e.getenv("LDAPD_PASSWORD"); pw != "" {
		return pw, false, nil
	}
	if e.isTerminal() {
		return "", true, nil
	}
	return "", false, inv.usageErr("no password for %s: set LDAPD_PASSWORD, pass --password-file FILE, or run on a terminal to be asked", cf.name)
}

// readPasswordFile returns the first line of file, without its line end.
func readPasswordFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read the password file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("the password file %s is empty", file)
	}
	return line, nil
}

// withClient connects, authenticates as --name and runs fn with the client.
func (inv *invocation) withClient(ctx context.Context, e *env, fn func(*admin.Client) error) error {
	pw, prompt, err := inv.bindPassword(e)
	if err != nil {
		return err
	}
	cfg, trust := inv.client.config(e)
	c, err := admin.Dial(ctx, cfg)
	if err != nil {
		return dialHint(err, cfg.URL, trust)
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
	return fn(c)
}

// hinted is an error whose message adds what to do; it unwraps to the
// original error.
type hinted struct {
	msg string
	err error
}

func (h *hinted) Error() string { return h.msg }
func (h *hinted) Unwrap() error { return h.err }

// dialHint adds to a connection failure what the user can do about it.
func dialHint(err error, url, trust string) error {
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &hinted{fmt.Sprintf("cannot reach the server at %s: is `ldapd serve` running? (connection refused; set --url or LDAPD_URL for another server)", url), err}
	case errors.Is(err, admin.ErrUnreachable):
		return &hinted{err.Error() + " (check --url or LDAPD_URL)", err}
	case errors.As(err, &unknown):
		return &hinted{fmt.Sprintf("%v: set LDAPD_CA or --ca to the server's CA certificate, %s in the server's data directory (trusted now: %s)", err, defaultCAFile, trust), err}
	case errors.Is(err, admin.ErrUntrusted):
		return &hinted{fmt.Sprintf("%v (trusted now: %s)", err, trust), err}
	}
	return err
}

// bindHint adds how to recover from a wrong password.
func bindHint(err error, name string) error {
	if errors.Is(err, admin.ErrAuthFailed) {
		return &hinted{fmt.Sprintf("%v (reset it with: ldapd recover-account %s)", err, name), err}
	}
	return err
}
