package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"
)

// A configuration file is TOML whose top-level keys are the long names of
// the flags of a command (ldaps = ":636", allow-insecure-bind = false,
// max-connections = 4096, idle-timeout = "5m"). Each option is set by, in
// order of precedence: its flag, its environment variable, the file, its
// default. So that this holds for every option, including those added
// later, the environment and the file are applied to the parsed pflag set
// generically (a few dozen lines here do what viper or koanf would,
// keeping the line numbers and checks of the errors below).

// Check validates an option's value, whichever source gave it; nil
// accepts every value the flag itself accepts.
type Check func(name, value string) error

// EnvName is the environment variable of a flag bound by WithEnv.
func EnvName(flagName string) string {
	return "LDAPD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envAnnotation is the pflag annotation naming a flag's variable.
const envAnnotation = "ldapd-env"

// BindEnv makes the environment variable set the flag when the flag is not
// on the command line (ApplyEnv). Only flags bound to a variable may come
// from a configuration file.
func BindEnv(fs *pflag.FlagSet, flag, variable string) {
	if err := fs.SetAnnotation(flag, envAnnotation, []string{variable}); err != nil {
		panic(err) // a flag name misspelt in the code
	}
}

// WithEnv binds every flag of fs to the variable EnvName gives it, and
// returns fs.
func WithEnv(fs *pflag.FlagSet) *pflag.FlagSet {
	fs.VisitAll(func(f *pflag.Flag) { BindEnv(fs, f.Name, EnvName(f.Name)) })
	return fs
}

// ConfigError is a problem in the configuration file, at a line.
type ConfigError struct {
	Path string
	Line int    // 0: unknown
	Key  string // "": not about one key (a syntax error)
	Msg  string
}

func (e *ConfigError) Error() string {
	where := "config " + e.Path
	if e.Line > 0 {
		where += fmt.Sprintf(" line %d", e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Key, e.Msg)
	}
	return where + ": " + e.Msg
}

// ApplyFile sets the options of fs that the TOML file at path names,
// except those given as flags on the command line or through their
// environment variables. An unknown key, a value of the wrong type or a
// value check refuses stops with the line and the reason (a *ConfigError),
// even for an option set by a higher source: the file is wrong and the
// operator should know; so does a syntax error. An empty path does
// nothing. noFile lists flags that must not come from a file (config
// itself).
func ApplyFile(fs *pflag.FlagSet, path string, check Check, noFile ...string) error {
	if path == "" {
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var raw map[string]toml.Primitive
	md, err := toml.Decode(string(src), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &ConfigError{Path: path, Line: pe.Position.Line, Msg: pe.Message}
		}
		return &ConfigError{Path: path, Msg: err.Error()}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keyLine(src, keys[i]) < keyLine(src, keys[j]) })
	for _, k := range keys {
		fail := func(format string, a ...any) error {
			return &ConfigError{Path: path, Line: keyLine(src, k), Key: k, Msg: fmt.Sprintf(format, a...)}
		}
		f := fs.Lookup(k)
		if f == nil || len(f.Annotations[envAnnotation]) == 0 || slices.Contains(noFile, k) {
			return fail("unknown key (the keys are the long flag names of ldapd serve: see docs/configuration.md)")
		}
		want := tomlType(f)
		if got := md.Type(k); got != want {
			return fail("want a TOML %s, got %s", strings.ToLower(want), strings.ToLower(got))
		}
		var v tomlText
		if err := md.PrimitiveDecode(raw[k], &v); err != nil {
			return fail("%v", err)
		}
		if check != nil {
			if err := check(k, string(v)); err != nil {
				return fail("%v", err)
			}
		}
		if want == "String" && isDuration(f) {
			if _, err := time.ParseDuration(string(v)); err != nil {
				return fail("invalid value %q: want a duration such as \"90s\", \"5m\" or \"1h30m\"", string(v))
			}
		}
		if f.Changed {
			continue // the flag or the environment (ApplyEnv) wins
		}
		if err := fs.Set(k, string(v)); err != nil {
			return fail("invalid value %q: %v", string(v), err)
		}
	}
	return nil
}

// ApplyEnv sets each option of fs that is not on the command line from
// its environment variable (BindEnv) when lookup says that variable is
// set, even to the empty string: LDAPD_LDAPS= disables LDAPS whatever the
// file says. A value the option does not accept stops with a usage error
// (ErrUsage) naming the variable, as the file's errors name the line; an
// empty value is accepted only by string options. It also runs check on
// the options given as flags, so every source is checked the same way.
func ApplyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool), check Check) error {
	if check == nil {
		check = func(string, string) error { return nil }
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		if f.Changed {
			if cerr := check(f.Name, f.Value.String()); cerr != nil {
				err = fmt.Errorf("--%s: %v: %w", f.Name, cerr, ErrUsage)
			}
			return
		}
		if len(f.Annotations[envAnnotation]) == 0 {
			return
		}
		name := f.Annotations[envAnnotation][0]
		v, ok := lookup(name)
		if !ok {
			return
		}
		fail := func(format string, a ...any) {
			err = fmt.Errorf("environment %s: %s: %w", name, fmt.Sprintf(format, a...), ErrUsage)
		}
		want := map[string]string{"Bool": "true or false", "Integer": "a whole number"}[tomlType(f)]
		if isDuration(f) {
			want = `a duration such as "90s" or "5m"`
		}
		if v == "" && want != "" {
			fail("set but empty: want %s, or unset it to use the file's value or the default", want)
			return
		}
		if cerr := check(f.Name, v); cerr != nil {
			fail("%v", cerr)
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			fail("invalid value %q: want %s", v, want)
		}
	})
	return err
}

// isDuration reports whether a flag takes a time.Duration.
func isDuration(f *pflag.Flag) bool { return f.Value.Type() == "duration" }

// tomlText receives a TOML string, boolean or integer as text.
type tomlText string

func (t *tomlText) UnmarshalText(b []byte) error {
	*t = tomlText(b)
	return nil
}

// tomlType is the TOML type a flag's value takes in the file (as
// toml.MetaData.Type names it).
func tomlType(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		return "Bool"
	case "int", "int64", "uint", "uint64":
		return "Integer"
	case "float64":
		return "Float"
	}
	return "String" // durations too: "30s", as time.ParseDuration reads them
}

// keyLine finds the line on which a top-level key is set (0 if not found):
// the first line that starts with the key, bare or quoted, followed by '='
// or '.', or that opens the table [key].
func keyLine(src []byte, key string) int {
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			line = strings.TrimSpace(strings.TrimLeft(line, "["))
		}
		for _, k := range []string{key, `"` + key + `"`, "'" + key + "'"} {
			if rest, ok := strings.CutPrefix(line, k); ok {
				rest = strings.TrimSpace(rest)
				if rest != "" && strings.ContainsRune("=.]", rune(rest[0])) {
					return n
				}
			}
		}
	}
	return 0
}
