// Command genldif writes the benchmark data set: the base entry,
// ou=people, and N people uid=user1..userN with cn, sn, mail and an
// {SSHA} userPassword (the same password for all), as slapcat would.
//
//	go run ./scripts/bench/genldif -n 10000 -w secret > people.ldif
//
// With -groups G it adds ou=groups and G groups (groupOfNames) of -members
// random people each, to measure what member references cost.
package main

import (
	"bufio"
	"crypto/sha1" //nolint:gosec // {SSHA} is the scheme under test
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

func main() {
	n := flag.Int("n", 10000, "number of people")
	base := flag.String("base", "dc=idm,dc=example,dc=com", "base DN (dc=... components)")
	pw := flag.String("w", "secret", "password of every person")
	groups := flag.Int("groups", 0, "number of groups")
	members := flag.Int("members", 100, "members per group")
	flag.Parse()
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	rng := rand.New(rand.NewPCG(1, 2))
	dc := strings.TrimPrefix(strings.SplitN(*base, ",", 2)[0], "dc=")
	fmt.Fprintf(out, "dn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: %s\no: %s\n\n", *base, dc, dc)
	fmt.Fprintf(out, "dn: ou=people,%s\nobjectClass: top\nobjectClass: organizationalUnit\nou: people\n\n", *base)
	for i := 1; i <= *n; i++ {
		var salt [8]byte
		for j := range salt {
			salt[j] = byte(rng.UintN(256))
		}
		sum := sha1.Sum(append([]byte(*pw), salt[:]...)) //nolint:gosec
		ssha := base64.StdEncoding.EncodeToString(append(sum[:], salt[:]...))
		fmt.Fprintf(out, "dn: uid=user%d,ou=people,%s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n"+
			"uid: user%d\ncn: User %d\nsn: %d\nmail: user%d@example.com\nuserPassword: {SSHA}%s\n\n",
			i, *base, i, i, i, i, ssha)
	}
	if *groups > 0 {
		fmt.Fprintf(out, "dn: ou=groups,%s\nobjectClass: top\nobjectClass: organizationalUnit\nou: groups\n\n", *base)
	}
	for g := 1; g <= *groups; g++ {
		fmt.Fprintf(out, "dn: cn=group%d,ou=groups,%s\nobjectClass: top\nobjectClass: groupOfNames\ncn: group%d\n", g, *base, g)
		start := rng.IntN(*n) // consecutive people from a random one: distinct values
		for j := range min(*members, *n) {
			fmt.Fprintf(out, "member: uid=user%d,ou=people,%s\n", 1+(start+j)%*n, *base)
		}
		fmt.Fprintln(out)
	}
}
