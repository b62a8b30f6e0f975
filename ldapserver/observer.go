package ldapserver

import "time"

// Observer is told of connections and operations as they happen, for
// metrics. Its methods are called from connection goroutines, concurrently,
// and must be quick and safe for concurrent use. ldapserver knows nothing
// of how they are recorded.
type Observer interface {
	// ConnOpened is called when a connection is accepted and registered.
	ConnOpened()
	// ConnClosed is called once for every ConnOpened, when the connection ends.
	ConnClosed()
	// OpDone is called after each operation answered, with the operation
	// name as logged ("bind", "search", ...), its LDAP result code and how
	// long it took from decoding to the last response written.
	OpDone(op string, code int, d time.Duration)
}
