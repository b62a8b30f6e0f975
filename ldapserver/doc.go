// Package ldapserver is ldapd's LDAPv3 protocol front end: listeners, TLS
// and StartTLS, the per-connection loop, typed requests and a net/http-style
// Handler interface. It knows nothing of storage, access control or tokens:
// a Handler (package gateway) gives operations their meaning.
//
// # Basics
//
// [Server.Serve] takes a listener (plain LDAP, where StartTLS is offered)
// and [Server.ServeTLS] one whose connections start with a TLS handshake
// (LDAPS). Each connection gets one goroutine running the connection loop,
// which reads a message, decodes it (package wire) into a typed
// [Operation] with DNs and filters already parsed, and calls the Handler
// with a [ResponseWriter]. The loop owns the connection state: the bound
// [Identity], the TLS upgrade and closing.
//
// The loop applies the connection-level rules itself: a simple bind that
// carries a password over a connection without TLS is answered
// confidentialityRequired (13) unless AllowInsecureBind is set; a failed
// bind leaves the connection anonymous; unknown critical controls are
// answered unavailableCriticalExtension (12); malformed messages are
// answered protocolError (2) or, when the message ID cannot be read, with a
// Notice of Disconnection and a close.
//
// # Caveats
//
// Operations on one connection run one at a time, in order, as net/http
// does for HTTP/1: there is never more than one outstanding operation per
// connection, so Abandon has nothing to cancel and Bind and StartTLS need
// no barrier. Error results carry the messages of *directory.Error; other
// errors become "other" (80) with a generic message, and the detail goes to
// the log.
package ldapserver
