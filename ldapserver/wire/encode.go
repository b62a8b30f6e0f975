package wire

import "strconv"

// ResponseTag is the [APPLICATION n] tag number of a response protocolOp.
type ResponseTag uint8

// Response tags (RFC 4511 §4.2 to §4.13).
const (
	ApplicationBindResponse          ResponseTag = 1
	ApplicationSearchResultEntry     ResponseTag = 4
	ApplicationSearchResultDone      ResponseTag = 5
	ApplicationModifyResponse        ResponseTag = 7
	ApplicationAddResponse           ResponseTag = 9
	ApplicationDelResponse           ResponseTag = 11
	ApplicationModifyDNResponse      ResponseTag = 13
	ApplicationCompareResponse       ResponseTag = 15
	ApplicationSearchResultReference ResponseTag = 19
	ApplicationExtendedResponse      ResponseTag = 24
	ApplicationIntermediateResponse  ResponseTag = 25
)

// String returns the response's RFC 4511 name, such as "searchResDone".
func (t ResponseTag) String() string {
	switch t {
	case ApplicationBindResponse:
		return "bindResponse"
	case ApplicationSearchResultEntry:
		return "searchResEntry"
	case ApplicationSearchResultDone:
		return "searchResDone"
	case ApplicationModifyResponse:
		return "modifyResponse"
	case ApplicationAddResponse:
		return "addResponse"
	case ApplicationDelResponse:
		return "delResponse"
	case ApplicationModifyDNResponse:
		return "modDNResponse"
	case ApplicationCompareResponse:
		return "compareResponse"
	case ApplicationSearchResultReference:
		return "searchResRef"
	case ApplicationExtendedResponse:
		return "extendedResp"
	case ApplicationIntermediateResponse:
		return "intermediateResponse"
	}
	return "protocolOp(" + strconv.Itoa(int(t)) + ")"
}

// Result is the LDAPResult carried by most responses (RFC 4511 §4.1.9).
type Result struct {
	// Code is the resultCode, such as 0 (success) or 2 (protocolError).
	Code int
	// MatchedDN is the matchedDN; usually empty.
	MatchedDN string
	// Message is the diagnosticMessage; it must not carry secrets.
	Message string
	// Referral lists referral URIs; nil for none. RFC 4511 §4.1.10 allows
	// it only with resultCode referral (10).
	Referral []string
}

// NoticeOfDisconnectionOID is the responseName of the unsolicited Notice of
// Disconnection (RFC 4511 §4.4.1).
const NoticeOfDisconnectionOID = "1.3.6.1.4.1.1466.20036"

// The encoders below append one complete LDAPMessage to dst and return the
// extended slice. They write the BER directly, without an intermediate
// tree, and allocate only when dst must grow; reusing one buffer per
// connection (dst[:0]) makes encoding allocation-free in the steady state.
// Every length uses the shortest definite form, a BOOLEAN TRUE is 0xFF, and
// fields equal to their DEFAULT are omitted (RFC 4511 §5.1). Strings are
// written as given: the caller is responsible for them being valid UTF-8
// where RFC 4511 says LDAPString. BER lengths here have at most four
// octets, so no single message may reach 4 GiB.
//
// A constructed element's length is written after its contents: a
// one-octet placeholder is reserved and, when the contents reach 128
// octets, they are moved right to make room for the long form. The cost
// is one memmove per enclosing level, negligible for ordinary entries
// (a 1 MiB value is moved five times).

// AppendResult appends a response that consists of an LDAPResult alone:
// op is one of ApplicationSearchResultDone, ApplicationModifyResponse,
// ApplicationAddResponse, ApplicationDelResponse,
// ApplicationModifyDNResponse and ApplicationCompareResponse (and
// ApplicationBindResponse or ApplicationExtendedResponse when no further
// fields are needed). controls may be nil.
func AppendResult(dst []byte, id int32, op ResponseTag, r Result, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(op))
	dst = appendLDAPResult(dst, r)
	dst = end(dst, o)
	return endMessage(dst, msg, controls)
}

// AppendBindResponse appends a bindResponse (RFC 4511 §4.2.2).
// serverSASLCreds is sent as serverSaslCreds [7] if it is non-nil (even if
// empty), and omitted if nil.
func AppendBindResponse(dst []byte, id int32, r Result, serverSASLCreds []byte, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(ApplicationBindResponse))
	dst = appendLDAPResult(dst, r)
	if serverSASLCreds != nil {
		dst = appendBytes(dst, classContext|7, serverSASLCreds)
	}
	dst = end(dst, o)
	return endMessage(dst, msg, controls)
}

// AppendSearchEntry appends a searchResEntry (RFC 4511 §4.5.2) for the
// entry dn. For a typesOnly search, pass attributes with empty Values.
func AppendSearchEntry(dst []byte, id int32, dn string, attrs []Attribute, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(ApplicationSearchResultEntry))
	dst = appendString(dst, tagOctetString, dn)
	return endSearchEntry(dst, msg, o, attrs, controls)
}

// AppendSearchEntryDN is AppendSearchEntry with the DN written by
// appendDN (such as directory.DN.AppendString), which appends it to its
// argument: the DN goes straight into dst, without a string of its own.
func AppendSearchEntryDN(dst []byte, id int32, appendDN func([]byte) []byte, attrs []Attribute, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(ApplicationSearchResultEntry))
	dst, dn := begin(dst, tagOctetString)
	dst = end(appendDN(dst), dn)
	return endSearchEntry(dst, msg, o, attrs, controls)
}

func endSearchEntry(dst []byte, msg, o int, attrs []Attribute, controls []Control) []byte {
	dst, list := begin(dst, tagSequence)
	for _, a := range attrs {
		var pa, set int
		dst, pa = begin(dst, tagSequence)
		dst = appendString(dst, tagOctetString, a.Type)
		dst, set = begin(dst, tagSet)
		for _, v := range a.Values {
			dst = appendString(dst, tagOctetString, v)
		}
		dst = end(dst, set)
		dst = end(dst, pa)
	}
	dst = end(dst, list)
	dst = end(dst, o)
	return endMessage(dst, msg, controls)
}

// AppendSearchReference appends a searchResRef (RFC 4511 §4.5.3) holding
// uris, which should not be empty.
func AppendSearchReference(dst []byte, id int32, uris []string, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(ApplicationSearchResultReference))
	for _, u := range uris {
		dst = appendString(dst, tagOctetString, u)
	}
	dst = end(dst, o)
	return endMessage(dst, msg, controls)
}

// AppendExtendedResponse appends an extendedResp (RFC 4511 §4.12).
// responseName [10] is sent if name is not empty; responseValue [11] is
// sent if hasValue.
func AppendExtendedResponse(dst []byte, id int32, r Result, name string, value []byte, hasValue bool, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(ApplicationExtendedResponse))
	dst = appendLDAPResult(dst, r)
	dst = appendNameValue(dst, 10, name, value, hasValue)
	dst = end(dst, o)
	return endMessage(dst, msg, controls)
}

// AppendIntermediateResponse appends an intermediateResponse (RFC 4511
// §4.13). responseName [0] is sent if name is not empty; responseValue [1]
// is sent if hasValue.
func AppendIntermediateResponse(dst []byte, id int32, name string, value []byte, hasValue bool, controls []Control) []byte {
	dst, msg := beginMessage(dst, id)
	dst, o := begin(dst, classApplication|constructed|byte(ApplicationIntermediateResponse))
	dst = appendNameValue(dst, 0, name, value, hasValue)
	dst = end(dst, o)
	return endMessage(dst, msg, controls)
}

// appendNameValue appends the optional responseName and responseValue of
// an extended or intermediate response, tagged [nameTag] and [nameTag+1]:
// the name if it is not empty, the value if hasValue.
func appendNameValue(dst []byte, nameTag byte, name string, value []byte, hasValue bool) []byte {
	if name != "" {
		dst = appendString(dst, classContext|nameTag, name)
	}
	if hasValue {
		dst = appendBytes(dst, classContext|(nameTag+1), value)
	}
	return dst
}

// AppendNoticeOfDisconnection appends the unsolicited Notice of
// Disconnection (RFC 4511 §4.4.1): an extendedResp with messageID 0,
// responseName NoticeOfDisconnectionOID and no value. code is typically
// protocolError (2), unavailable (52) or strongerAuthRequired (8). The
// server closes the connection after sending it.
func AppendNoticeOfDisconnection(dst []byte, code int, msg string) []byte {
	return AppendExtendedResponse(dst, 0, Result{Code: code, Message: msg}, NoticeOfDisconnectionOID, nil, false, nil)
}

// beginMessage starts an LDAPMessage and writes its messageID.
func beginMessage(dst []byte, id int32) ([]byte, int) {
	dst, mark := begin(dst, tagSequence)
	return appendInt(dst, tagInteger, int64(id)), mark
}

// endMessage writes the controls, if any, and completes the LDAPMessage.
func endMessage(dst []byte, mark int, controls []Control) []byte {
	if len(controls) > 0 {
		var list int
		dst, list = begin(dst, idControls)
		for _, c := range controls {
			var ctl int
			dst, ctl = begin(dst, tagSequence)
			dst = appendString(dst, tagOctetString, c.OID)
			if c.Critical {
				dst = appendBool(dst, tagBoolean, true)
			}
			if c.HasValue {
				dst = appendBytes(dst, tagOctetString, c.Value)
			}
			dst = end(dst, ctl)
		}
		dst = end(dst, list)
	}
	return end(dst, mark)
}

// appendLDAPResult writes the components of an LDAPResult:
//
//	LDAPResult ::= SEQUENCE {
//	     resultCode         ENUMERATED { ... },
//	     matchedDN          LDAPDN,
//	     diagnosticMessage  LDAPString,
//	     referral           [3] Referral OPTIONAL }
func appendLDAPResult(dst []byte, r Result) []byte {
	dst = appendInt(dst, tagEnumerated, int64(r.Code))
	dst = appendString(dst, tagOctetString, r.MatchedDN)
	dst = appendString(dst, tagOctetString, r.Message)
	if len(r.Referral) > 0 {
		var ref int
		dst, ref = begin(dst, classContext|constructed|3)
		for _, u := range r.Referral {
			dst = appendString(dst, tagOctetString, u)
		}
		dst = end(dst, ref)
	}
	return dst
}
