package cli

import "errors"

// ErrUsage marks an error caused by bad arguments (exit status 2).
var ErrUsage = errors.New("usage")

// ErrHelpShown is returned by a command that printed its help on request
// (exit status 0).
var ErrHelpShown = errors.New("help shown")
