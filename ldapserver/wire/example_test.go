package wire_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/ldapd/ldapd/ldapserver/wire"
)

// A connection loop in miniature: read a message, decode it, answer it.
func Example() {
	// A search for (uid=jdoe) under dc=example,dc=com asking for cn and
	// mail, as go-ldap sends it, followed by a message with an invalid
	// search scope.
	search, _ := hex.DecodeString("3040020101633b041164633d6578616d706c652c64633d636f6d0a01020a0100020100020100010100a30b040375696404046a646f65300a0402636e04046d61696c")
	bad := bytes.Clone(search)
	bad[4] = 2  // messageID 2
	bad[28] = 9 // scope 9
	conn := bufio.NewReader(bytes.NewReader(append(search, bad...)))

	var in, out []byte // reused for every message
	for {
		var err error
		in, err = wire.AppendPacket(in[:0], conn, wire.DefaultMaxPacketSize)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("closing:", err)
			return
		}
		msg, err := wire.Decode(in, wire.Limits{})
		var de *wire.DecodeError
		if errors.As(err, &de) {
			if tag, ok := de.ResponseTag(); ok {
				out = wire.AppendResult(out[:0], de.ID, tag, wire.Result{Code: wire.ResultProtocolError, Message: "malformed request"}, nil)
				fmt.Printf("message %d: %s protocolError (%d octets)\n", de.ID, tag, len(out))
			}
			continue
		}
		if err != nil {
			out = wire.AppendNoticeOfDisconnection(out[:0], wire.ResultProtocolError, "malformed message")
			fmt.Println("closing after a Notice of Disconnection")
			return
		}
		switch op := msg.Op.(type) {
		case *wire.SearchRequest:
			fmt.Println("search", op.BaseObject, op.Filter, op.Attributes)
			out = wire.AppendSearchEntry(out[:0], msg.ID, "uid=jdoe,dc=example,dc=com",
				[]wire.Attribute{{Type: "cn", Values: []string{"John Doe"}}}, nil)
			out = wire.AppendResult(out, msg.ID, wire.ApplicationSearchResultDone, wire.Result{}, nil)
			fmt.Printf("message %d: entry and searchResDone (%d octets)\n", msg.ID, len(out))
		}
	}
	// Output:
	// search dc=example,dc=com (uid=jdoe) [cn mail]
	// message 1: entry and searchResDone (69 octets)
	// message 2: searchResDone protocolError (31 octets)
}

// The admin CLI and the server share one definition of the generate-token
// value: the CLI encodes the request and decodes the response, the server
// the other way round.
func ExampleAppendGenerateToken() {
	req := wire.AppendGenerateToken(nil, wire.GenerateToken{
		Account:   "uid=demo_service,ou=accounts,dc=example,dc=com",
		Label:     "Test Token",
		Expiry:    "2030-09-25T11:22:02+10:00",
		HasExpiry: true,
		ReadWrite: true,
	})
	g, err := wire.DecodeGenerateToken(req) // on the server
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %q expires %s rw=%v\n", g.Account, g.Label, g.Expiry, g.ReadWrite)

	resp := wire.AppendGenerateTokenResponse(nil, "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "4de2a4e9") // on the server
	token, id, err := wire.DecodeGenerateTokenResponse(resp)                                   // in the CLI
	if err != nil {
		panic(err)
	}
	fmt.Println(id, token)
	// Output:
	// uid=demo_service,ou=accounts,dc=example,dc=com "Test Token" expires 2030-09-25T11:22:02+10:00 rw=true
	// 4de2a4e9 eyJhbGciOiJFZERTQSJ9.e30.c2ln
}
