package main

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// osEnv is the real process environment.
func osEnv() *env {
	return &env{
		stdin:          os.Stdin,
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		getenv:         os.Getenv,
		lookupEnv:      os.LookupEnv,
		isTerminal:     func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		stderrTerminal: func() bool { return term.IsTerminal(int(os.Stderr.Fd())) },
		readPassword: func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			return string(b), nil
		},
	}
}

// lookup returns an environment variable's value and whether it is set
// (an empty value counts as set when the environment can tell).
func (e *env) lookup(name string) (string, bool) {
	if e.lookupEnv != nil {
		return e.lookupEnv(name)
	}
	v := e.getenv(name)
	return v, v != ""
}
