// Package wire is ldapd's LDAPv3 codec (RFC 4511): it frames messages off a
// connection, decodes requests into typed values and encodes responses.
//
// # Basics
//
// A connection loop reads one message at a time with [ReadPacket] (or
// [AppendPacket], which reuses a buffer), decodes it with [Decode] and
// dispatches on the type of [Message.Op], a closed sum type:
//
//	pkt, err := wire.ReadPacket(br, maxBytes)
//	...
//	msg, err := wire.Decode(pkt, limits)
//	var de *wire.DecodeError
//	if errors.As(err, &de) {
//		// Answer protocolError to de.ID with de.ResponseTag(), or send a
//		// Notice of Disconnection and close.
//	}
//	switch op := msg.Op.(type) {
//	case *wire.SearchRequest:
//		...
//	}
//
// Responses are appended to a caller-supplied buffer by the Append*
// functions ([AppendResult], [AppendSearchEntry], [AppendBindResponse],
// [AppendExtendedResponse], [AppendNoticeOfDisconnection], ...), which write
// BER directly with no intermediate tree; reusing one buffer per connection
// makes encoding allocation-free. Control and extended-operation values the
// server handles have their own encoders and decoders: the paged results
// control, Password Modify, and ldapd's own generate-token operation, whose
// client side (used by the admin CLI) lives here too so that both ends share
// one definition.
//
// The codec is written for hostile input. Every error wraps one of the
// sentinels [ErrMalformed], [ErrMessageTooLarge] or [ErrLimitExceeded]; no
// input makes it panic. Lengths are checked against the octets actually
// present before anything is read or allocated, so memory follows the size
// of the packet, which ReadPacket bounds. Within a packet, [Limits] bounds
// filter depth and size and the number of attributes, values and controls;
// the filter decoder checks the depth before descending, so nesting cannot
// exhaust the stack. Only the BER forms LDAP allows are accepted (RFC 4511
// §5.1): definite lengths of at most four length octets, primitive OCTET
// STRINGs, minimal INTEGERs, and single-octet tags.
//
// The package has no state: Decode, the Append functions and the value
// codecs are safe for concurrent use.
//
// Decoding allocates little: one private copy of the packet, the Message
// together with its operation, and exactly-sized slices for controls,
// attributes, values and filter nodes (a filter of any size costs at most
// three allocations). Strings are not allocated one by one; see Caveats.
//
// # Caveats
//
// Strings in a decoded Message are views (unsafe.String) of the private
// packet copy that Decode makes, so the packet passed to Decode may be
// reused at once. Byte-slice fields (passwords, SASL credentials, control
// and extended values) alias the same copy, in regions no string shares:
// the caller may scrub a password in place without corrupting any string,
// and nothing else can write the copy, so the strings are immutable as Go
// requires. But a single small string kept long after the Message (a map
// key, say) keeps the whole packet's memory alive; clone such strings
// (strings.Clone) if that matters.
//
// The value decoders ([DecodePasswordModify], [DecodeGenerateToken], ...)
// allocate the strings they return, because their input usually aliases a
// Message; the byte slices they return alias their input.
//
// Decode does not check that LDAPString and LDAPDN values are valid UTF-8,
// that DNs, attribute descriptions and OIDs are well formed, that a bind's
// version is 3, or that a request's messageID is non-zero (RFC 4511
// §4.1.1.1 reserves 0 for unsolicited notifications; the ASN.1 type admits
// it): the caller parses and validates those, answering protocolError,
// invalidDNSyntax and so on as RFC 4511 says.
//
// Following RFC 4511 §4, trailing SEQUENCE components with tags a structure
// does not define are ignored if they are well-formed context-specific TLVs
// (the form extensions take); any other trailing component, and a repeated
// or misplaced component with a tag the structure does define, is rejected,
// so that a mis-encoded field is never silently dropped.
// Enumerations accept the extension values in use: search scope 3
// (subordinateSubtree) and modify operation 3 (increment, RFC 4525).
//
// RFC 4511 §4.1.1 says a server SHOULD answer an unrecognized operation, or
// one whose BER structure is broken, with a Notice of Disconnection and
// close the connection. A [DecodeError] gives the server the choice of
// answering protocolError to the message instead, which is friendlier for
// semantic errors such as an out-of-range scope. After [ErrMessageTooLarge]
// the stream is mid-message and the connection must be closed.
package wire
