// Package console serves ldapd's web console and its JSON API (/v1) over
// HTTPS, for the people who manage service accounts and their API tokens.
//
// # Basics
//
// The console is a thin layer over the identity core (package idm), as the
// LDAP gateway is: every sign-in is an idm.Service.Bind (the same bind
// throttle, the same security log lines as an LDAP bind), every read is an
// idm.Service.Search and every write an idm call made with the signed-in
// Identity. Who may do what is decided by idm alone; this package only maps
// the directory's errors to HTTP status codes (errors.go).
//
// A browser signs in with POST /v1/login and gets a server-side session
// (session.go): an opaque random id in a Secure, HttpOnly, SameSite=Strict
// cookie, with an idle and an absolute expiry, ended by sign-out and by any
// change to the account's entry (a new password, a disabled flag: the
// entry's modifyTimestamp moves) or its removal. Requests that change state
// with a session need the session's X-CSRF-Token header. Automation sends
// "Authorization: Bearer TOKEN" with an API token instead: each request is
// a token bind, acting as the token's service account; a read-only token
// may only GET.
//
// Pages are html/template, with one small script and one style sheet served
// as files (assets/), so the Content-Security-Policy needs no
// 'unsafe-inline' (headers.go).
//
// # Caveats
//
// Sessions live in memory: a restart signs everyone out. Session ends on an
// account change are seen on the next request (each request re-reads the
// account); the account's modifyTimestamp has a resolution of one second,
// so a change made in the same second as the previous change to the entry,
// before sign-in, is not seen.
package console
