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
