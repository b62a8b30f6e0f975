//go:build race

package boltstore

// raceEnabled: the race detector makes sync.Pool drop what it is given,
// so allocation counts mean nothing.
const raceEnabled = true
