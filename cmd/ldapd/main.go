// Command ldapd is the ldapd directory server and its admin CLI.
//
//	ldapd serve                 run the server (LDAPS and LDAP+StartTLS)
//	ldapd recover-account NAME  set and print a new password for an account
//	ldapd service-account ...   manage service accounts and their API tokens
//	ldapd person ...            manage people
//	ldapd group ...             manage groups
//
// main only parses flags, wires packages together and handles signals; the
// behaviour lives in the packages it calls. The command tree is built with
// cobra (newRoot); internal/cli holds its help and error conventions.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ldapd/ldapd/internal/cli"
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

// errUsage marks an error caused by bad arguments (exit status 2): the
// same sentinel as internal/cli's usage errors.
var errUsage = cli.ErrUsage

// errHelpShown is returned by a command that printed its help on request.
var errHelpShown = cli.ErrHelpShown

// errUsageShown is a usage error whose usage was printed already (ldapd
// without a command).
var errUsageShown = fmt.Errorf("usage shown: %w", errUsage)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, osEnv(), os.Args[1:]))
}

// run runs the command line args and returns the exit status: 0 on
// success (and for help), 1 when the operation failed, 2 for bad
// arguments. Errors are printed on e.stderr as "ldapd COMMAND: message".
func run(ctx context.Context, e *env, args []string) int {
	root := newRoot(e, args)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil || errors.Is(err, errHelpShown) {
		return 0
	}
	prefix := "ldapd"
	for c := cmd; c != nil && c.HasParent(); c = c.Parent() {
		prefix = "ldapd " + c.Name() // the top-level command
	}
	if !errors.Is(err, errUsageShown) {
		fmt.Fprintf(e.stderr, "%s: %v\n", prefix, err)
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// newRoot builds the command tree for one run; args are the command line,
// to tell a request for help from a bad flag (flagError).
func newRoot(e *env, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:           "ldapd COMMAND [ARGS] [FLAGS]",
		Short:         "an LDAP directory server with token bind",
		Version:       versionString(),
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				cli.WriteHelp(c.OutOrStdout(), c)
				return errUsageShown
			}
			return cli.UnknownCommand(c, args[0])
		},
		PersistentPreRunE: func(c *cobra.Command, _ []string) error { return applyEnv(e, c.Flags()) },
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	root.SetVersionTemplate("{{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true // completionCmd replaces it
	root.AddGroup(
		&cobra.Group{ID: "server", Title: "Server:"},
		&cobra.Group{ID: "client", Title: "Directory (over LDAP, as --name):"},
		&cobra.Group{ID: "offline", Title: "Data (offline, or through the admin socket):"},
		&cobra.Group{ID: "other", Title: "Other:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("server", serveCmd(e), healthcheckCmd(e))
	add("client", serviceAccountCmd(e), personCmd(e), groupCmd(e))
	add("offline", recoverAccountCmd(e), importCmd(e), exportCmd(e), migrateCmd(e), dbVerifyCmd(e), backupCmd(e), restoreCmd(e))
	add("other", completionCmd(e), versionCmd(e))
	root.SetHelpCommandGroupID("other")
	conventions(root, args)
	return root
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
