package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// testOptions are options of each kind, bound to LDAPD_ variables except
// "local", which no file or variable may set.
type testOptions struct {
	addr    string
	level   string
	on      bool
	count   int
	timeout time.Duration
	config  string
	local   string
}

func testFlags(o *testOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", ":3636", "")
	fs.StringVar(&o.level, "log-level", "info", "")
	fs.BoolVar(&o.on, "on", false, "")
	fs.IntVar(&o.count, "count", 4096, "")
	fs.DurationVar(&o.timeout, "idle-timeout", 5*time.Minute, "")
	fs.StringVar(&o.config, "config", "", "")
	WithEnv(fs)
	fs.StringVarP(&o.local, "local", "o", "", "")
	return fs
}

// testCheck refuses a log level other than debug or info.
func testCheck(name, v string) error {
	if name == "log-level" && v != "debug" && v != "info" {
		return fmt.Errorf("invalid value %q: want debug or info", v)
	}
	return nil
}

// load parses args, then applies the environment and the file, as a
// command does before it runs.
func load(t *testing.T, args []string, environ map[string]string, file string) (testOptions, error) {
	t.Helper()
	var o testOptions
	fs := testFlags(&o)
	if file != "" {
		path := filepath.Join(t.TempDir(), "ldapd.toml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--config", path}, args...)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	if err := ApplyEnv(fs, lookup, testCheck); err != nil {
		return o, err
	}
	return o, ApplyFile(fs, o.config, testCheck, "config")
}

func TestEnvName(t *testing.T) {
	if got := EnvName("allow-insecure-bind"); got != "LDAPD_ALLOW_INSECURE_BIND" {
		t.Errorf("EnvName = %q", got)
	}
}

// TestPrecedence: flag > environment > file > default, for every pair.
func TestPrecedence(t *testing.T) {
	type src struct {
		flag, env, file string // "" = not given
	}
	tests := []struct {
		name string
		src  src
		want string
	}{
		{"default", src{}, ":3636"},
		{"file over default", src{file: "127.0.0.1:1636"}, "127.0.0.1:1636"},
		{"env over file", src{env: "127.0.0.2:2636", file: "127.0.0.1:1636"}, "127.0.0.2:2636"},
		{"env over default", src{env: "127.0.0.2:2636"}, "127.0.0.2:2636"},
		{"flag over env and file", src{flag: "127.0.0.3:3636", env: "127.0.0.2:2636", file: "127.0.0.1:1636"}, "127.0.0.3:3636"},
		{"flag over file", src{flag: "127.0.0.3:3636", file: "127.0.0.1:1636"}, "127.0.0.3:3636"},
		{"flag over default", src{flag: "127.0.0.3:3636"}, "127.0.0.3:3636"},
		{"empty flag over file", src{flag: "=", file: "127.0.0.1:1636"}, ""},
		{"empty env over file", src{env: "=", file: "127.0.0.1:1636"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			switch tt.src.flag {
			case "":
			case "=":
				args = []string{"--addr="}
			default:
				args = []string{"--addr", tt.src.flag}
			}
			environ := map[string]string{}
			switch tt.src.env {
			case "":
			case "=":
				environ["LDAPD_ADDR"] = ""
			default:
				environ["LDAPD_ADDR"] = tt.src.env
			}
			file := ""
			if tt.src.file != "" {
				file = "# comment\naddr = \"" + tt.src.file + "\"\n"
			}
			o, err := load(t, args, environ, file)
			if err != nil {
				t.Fatal(err)
			}
			if o.addr != tt.want {
				t.Errorf("addr = %q, want %q", o.addr, tt.want)
			}
		})
	}
}

// TestFileTypes sets options of each kind from a file; a bool from the
// file is overridden by the flag and by the environment.
func TestFileTypes(t *testing.T) {
	o, err := load(t, nil, nil, "\"log-level\" = \"debug\"\non = true\ncount = 100\nidle-timeout = \"90s\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if o.level != "debug" || !o.on || o.count != 100 || o.timeout != 90*time.Second {
		t.Errorf("options = %+v", o)
	}
	for _, c := range []struct {
		args    []string
		environ map[string]string
	}{{[]string{"--on=false"}, nil}, {nil, map[string]string{"LDAPD_ON": "false"}}} {
		o, err := load(t, c.args, c.environ, "on = true\n")
		if err != nil || o.on {
			t.Errorf("%v %v: on %v, err %v", c.args, c.environ, o.on, err)
		}
	}
}

// TestFileErrors: each error names the file, the line and the key.
func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want       string // in the error, after "config PATH "
	}{
		{"unknown key", "addr = \"x\"\n\nadrr = \":389\"\n", `line 3: adrr: unknown key`},
		{"no file", "config = \"other.toml\"\n", `line 1: config: unknown key`},
		{"not bound", "local = \"x\"\n", `line 1: local: unknown key`},
		{"short flag name", "o = \"x\"\n", `line 1: o: unknown key`},
		{"table", "addr = \"x\"\n[limits]\nmax = 1\n", `line 2: limits: unknown key`},
		{"wrong type", "addr = \"x\"\ncount = \"many\"\n", `line 2: count: want a TOML integer, got string`},
		{"bool as string", "on = \"yes\"\n", `line 1: on: want a TOML bool, got string`},
		{"check", "\n\nlog-level = \"loud\"\n", `line 3: log-level: invalid value "loud": want debug or info`},
		{"bad duration", "idle-timeout = \"5 minutes\"\n", `line 1: idle-timeout: invalid value "5 minutes"`},
		{"syntax", "addr = \"x\"\nport = \n", `line 2: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, nil, nil, tt.file)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			if !strings.Contains(err.Error(), "ldapd.toml "+tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	// A bad value is refused even when the flag or the environment
	// overrides it: the file is wrong and the operator should know.
	if _, err := load(t, []string{"--log-level", "info"}, nil, "log-level = \"loud\"\n"); err == nil {
		t.Error("a bad value overridden by a flag was accepted")
	}
	if _, err := load(t, nil, map[string]string{"LDAPD_IDLE_TIMEOUT": "1s"}, "idle-timeout = \"1\"\n"); err == nil {
		t.Error("a bad duration overridden by the environment was accepted")
	}
	if _, err := load(t, nil, nil, ""); err != nil {
		t.Errorf("no file: %v", err)
	}
	var o testOptions
	if err := ApplyFile(testFlags(&o), filepath.Join(t.TempDir(), "missing.toml"), nil); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestEnvErrors: a value the option does not take, or an empty one for an
// option that is not a string, is a usage error naming the variable; a
// bad flag is refused by the same check, naming the flag.
func TestEnvErrors(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"LDAPD_IDLE_TIMEOUT", "1", `environment LDAPD_IDLE_TIMEOUT: invalid value "1": want a duration`},
		{"LDAPD_IDLE_TIMEOUT", "", `environment LDAPD_IDLE_TIMEOUT: set but empty: want a duration`},
		{"LDAPD_COUNT", "abc", `environment LDAPD_COUNT: invalid value "abc": want a whole number`},
		{"LDAPD_COUNT", "", `environment LDAPD_COUNT: set but empty: want a whole number`},
		{"LDAPD_ON", "yes", `environment LDAPD_ON: invalid value "yes": want true or false`},
		{"LDAPD_LOG_LEVEL", "loud", `environment LDAPD_LOG_LEVEL: invalid value "loud": want debug or info`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := load(t, nil, map[string]string{tt.name: tt.value}, "idle-timeout = \"1s\"\ncount = 8\n")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrUsage) {
				t.Errorf("err = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
	// Valid values win over the file; without them, the file's hold.
	o, err := load(t, nil, map[string]string{"LDAPD_IDLE_TIMEOUT": "2s", "LDAPD_COUNT": "9"}, "idle-timeout = \"1s\"\ncount = 8\n")
	if err != nil || o.timeout != 2*time.Second || o.count != 9 {
		t.Errorf("idle %v count %d err %v: want the environment's 2s and 9", o.timeout, o.count, err)
	}
	o, err = load(t, nil, nil, "idle-timeout = \"1s\"\n")
	if err != nil || o.timeout != time.Second {
		t.Errorf("idle %v err %v: want the file's 1s", o.timeout, err)
	}
	if _, err := load(t, []string{"--log-level", "loud"}, map[string]string{"LDAPD_LOG_LEVEL": "debug"}, ""); err == nil ||
		!strings.Contains(err.Error(), "--log-level: invalid value") || !errors.Is(err, ErrUsage) {
		t.Errorf("--log-level loud: err = %v", err)
	}
	// A variable of an unbound flag is not read.
	if o, err := load(t, nil, map[string]string{"LDAPD_LOCAL": "x"}, ""); err != nil || o.local != "" {
		t.Errorf("local %q err %v: an unbound flag was read from the environment", o.local, err)
	}
}

func TestKeyLine(t *testing.T) {
	src := []byte("# x\naddr = 1\n\"count\" = 2\n  'on'=true\n[limits]\nmax.x = 1\n")
	for key, want := range map[string]int{"addr": 2, "count": 3, "on": 4, "limits": 5, "max": 6, "absent": 0, "add": 0} {
		if got := keyLine(src, key); got != want {
			t.Errorf("keyLine(%q) = %d, want %d", key, got, want)
		}
	}
}
