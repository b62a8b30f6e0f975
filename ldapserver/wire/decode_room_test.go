package wire

import (
	"fmt"
	"reflect"
	"testing"
)

// A search's filter and attribute list live in the Message's allocation
// when they fit, elsewhere when not, and decode the same either way; the
// attribute list's capacity is its length, so a caller's append never
// writes over anything.
func TestDecodeSearchRoom(t *testing.T) {
	filters := map[string][]byte{
		"one node":   eq("uid", "user1"),
		"four nodes": and(eq("uid", "a"), or(present("cn"), not(eq("sn", "b")))),
	}
	for name, f := range filters {
		for _, n := range []int{0, 1, 6, 7, 20} {
			t.Run(fmt.Sprintf("%s, %d attributes", name, n), func(t *testing.T) {
				var attrs []string
				for i := range n {
					attrs = append(attrs, fmt.Sprintf("attr%d", i))
				}
				m, err := Decode(msg(1, searchOp(f, attrs...)), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				r := m.Op.(*SearchRequest)
				if !reflect.DeepEqual(r.Attributes, attrs) {
					t.Fatalf("attributes %q, want %q", r.Attributes, attrs)
				}
				if cap(r.Attributes) != len(r.Attributes) {
					t.Fatalf("attributes: cap %d, len %d", cap(r.Attributes), len(r.Attributes))
				}
				before := show(r.Filter)
				_ = append(r.Attributes, "extra", "more")
				if after := show(r.Filter); after != before {
					t.Fatalf("filter changed by an append to the attributes:\n%s\n%s", before, after)
				}
				again, err := Decode(msg(1, searchOp(f, attrs...)), Limits{})
				if err != nil || !reflect.DeepEqual(again, m) {
					t.Fatalf("second decode differs: %v\n%s\n%s", err, show(again), show(m))
				}
			})
		}
	}
	pkt := msg(1, searchOp(eq("uid", "user1"), "cn", "mail", "uid", "sn"))
	if allocs := testing.AllocsPerRun(100, func() { _, _ = Decode(pkt, Limits{}) }); allocs > 2 {
		t.Errorf("decoding (uid=user1) with four attributes: %v allocations, want 2 (the packet's copy, the message)", allocs)
	}
}
