// Command ldapd is the ldapd directory server and its admin CLI.
//
//	ldapd serve                 run the server (LDAPS and LDAP+StartTLS)
//	ldapd recover-account NAME  set and print a new password for an account
//	ldapd service-account ...   manage service accounts and their API tokens
//	ldapd person ...            manage people
//	ldapd group ...             manage groups
//
// main only parses flags, wires packages together and handles signals; the
// behaviour lives in the packages it calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env is what a command may touch of the process: its standard streams
// and environment. Tests run commands with their own env.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// lookupEnv tells a variable set but empty from one not set; nil:
	// a variable counts as set when getenv gives a non-empty value.
	lookupEnv func(string) (string, bool)
	// isTerminal reports whether stdin is an interactive terminal (for
	// password prompts).
	isTerminal func() bool
	// readPassword reads a password from the terminal without echo.
	readPassword func(prompt string) (string, error)
	// stderrTerminal reports whether stderr is a terminal (console logs);
	// nil means it is not.
	stderrTerminal func() bool
}

// command is one subcommand: it gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the directory server", runServe},
		{"recover-account", "set and print a new password for an account (server running or not)", runRecoverAccount},
		{"import", "add the entries of an LDIF file to a stopped server's directory", runImport},
		{"export", "write a stopped server's directory as LDIF", runExport},
		{"migrate", "copy the directory between bbolt and etcd, either way (offline)", runMigrate},
		{"service-account", "manage service accounts and their API tokens", runServiceAccount},
		{"person", "manage people", runPerson},
		{"group", "manage groups", runGroup},
		{"verify", "check the database offline; non-zero exit on any inconsistency", runVerify},
		{"backup", "write a consistent backup archive (database and signing keys) from the running server", runBackup},
		{"restore", "restore a backup archive into a data directory (offline)", runRestore},
		{"healthcheck", "ask a running server's /readyz (exit 0 or 1), for container health checks", runHealthcheck},
		{"completion", "print a bash or zsh completion script", runCompletion},
		{"version", "print the version and commit", runVersionCmd},
	}
}

// errUsage marks an error caused by bad arguments (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, osEnv(), os.Args[1:]))
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" {
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelpShown):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(e.stderr, "ldapd %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(e.stderr, "ldapd %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "ldapd: unknown command %q (see ldapd --help)\n", args[0])
	return 2
}

// errHelpShown is returned by a command that printed its help on request.
var errHelpShown = errors.New("help shown")

func usage(w io.Writer) {
	fmt.Fprintln(w, "ldapd: an LDAP directory server with token bind")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ldapd COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ldapd COMMAND --help' for a command's flags.")
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
