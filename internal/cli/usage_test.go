package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runTree runs args on a small tree under the conventions: "tool" with a
// group "account" holding "create NAME [--quiet]".
func runTree(args ...string) (string, error) {
	create := &cobra.Command{
		Use: "create NAME [--quiet]", Short: "create an account", Long: Description("Creates an account.", [][2]string{{"NAME", "its name"}}),
		Example:     Examples("tool account create demo", "tool account create demo --quiet"),
		Annotations: map[string]string{AnnotationEnvironment: "  TOOL_X  x\n"},
		Args:        cobra.ArbitraryArgs,
		RunE:        func(*cobra.Command, []string) error { return nil },
	}
	create.Flags().Bool("quiet", false, "say nothing")
	root := &cobra.Command{Use: "tool COMMAND", Short: "a tool", SilenceErrors: true, SilenceUsage: true, Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error { return UnknownCommand(c, args[0]) }}
	root.AddGroup(&cobra.Group{ID: "main", Title: "Main:"})
	g := Group("account", "manage accounts", "Manage accounts.", create)
	g.GroupID = "main"
	root.AddCommand(g)
	root.CompletionOptions.DisableDefaultCmd = true
	Conventions(root, args)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"account", "create", "--loud"}, "create: unknown flag --loud\nusage: tool account create NAME [--quiet]\n(see tool account create --help)"},
		{[]string{"account", "create", "-x"}, "create: unknown flag -x"},
		{[]string{"account"}, "missing subcommand (one of: create)"},
		{[]string{"account", "creat"}, `unknown subcommand "creat" (one of: create; did you mean create?)`},
		{[]string{"acount"}, `unknown command "acount" (see tool --help)`},
		{[]string{"--bad"}, `unknown flag --bad`},
	}
	for _, tt := range tests {
		_, err := runTree(tt.args...)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
	if err := NoArgs(&cobra.Command{Use: "x"}, []string{"y"}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), `unexpected argument "y"`) {
		t.Errorf("NoArgs: %v", err)
	}
}

func TestHelp(t *testing.T) {
	out, err := runTree("account", "create", "--loud", "--help")
	if !errors.Is(err, ErrHelpShown) {
		t.Fatalf("--help next to a bad flag: err = %v", err)
	}
	for _, want := range []string{
		"Usage: tool account create NAME [--quiet]\n\nCreates an account.\n\nArguments:\n  NAME  its name\n",
		"Flags:\n  -h, --help    show this help\n      --quiet   say nothing\n",
		"Environment:\n  TOOL_X  x\n",
		"Examples:\n  tool account create demo\n  tool account create demo --quiet\n",
		"Exit status:\n  0 on success, 1 when the operation failed, 2 for bad arguments.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	out, _ = runTree("account", "--help")
	if !strings.Contains(out, "Subcommands:\n  create  create an account\n") {
		t.Errorf("group help:\n%s", out)
	}
	out, _ = runTree("--help")
	if !strings.HasPrefix(out, "tool: a tool\n\nUsage: tool COMMAND\n\nMain:\n  account  manage accounts\n") ||
		!strings.HasSuffix(out, "Run 'tool COMMAND --help' for a command's flags.\n") {
		t.Errorf("root help:\n%s", out)
	}
}

func TestParseByteSize(t *testing.T) {
	for size, want := range map[string]int64{"64MiB": 64 << 20, "2G": 2 << 30, "1048576": 1 << 20, "512KiB": 512 << 10, "1TB": 1 << 40} {
		if got, err := ParseByteSize(size); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", size, got, err, want)
		}
	}
	for _, size := range []string{"lots", "1.5GiB", "-1", "12XB", "", "9999999TiB"} {
		if got, err := ParseByteSize(size); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", size, got)
		}
	}
}
