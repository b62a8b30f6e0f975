//go:build race

package gateway_test

// raceEnabled: the race detector makes sync.Pool drop what it is given,
// so allocation counts mean nothing.
const raceEnabled = true
