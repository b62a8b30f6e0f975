// Command ldapload is a lean LDAP load generator for comparing directory
// servers (see scripts/bench). It keeps its own cost per operation small:
// requests are encoded into a reused buffer by a few append functions, and
// of each response it reads only the message ID, the operation tag and the
// result code. With -pid it reports the server's CPU time per operation,
// from /proc/PID/stat before and after the measured interval.
//
//	ldapload -url ldap://127.0.0.1:3389 -mode whoami -c 8 -d 10s -token TOKEN -pid 1234
//
// Modes (persistent connections bind once, before measuring):
//
//	bind       simple bind with -D/-w on each operation (-D may hold %d: a random entry 1..-n)
//	bind-repeat the same, %d a random entry 1..-repeat only, each bound once
//	           before measuring: an app checking its users' passwords again
//	           and again (ldapd answers these from its cache of successful
//	           verifications)
//	tokenbind  bind with dn=token and -token on each operation
//	whoami     WhoAmI extended operation
//	search-eq  subtree search (uid=user<N>) from -b, 4 attributes back
//	search-sub subtree search (cn=*<N>*) from -b (an unindexed scan; N in
//	           [n/2, n], so few entries match and the scan dominates)
//	connect    new connection (TLS for ldaps://) + bind + unbind, per operation
//	modify     replace description of a random -user entry
//	add        add a new inetOrgPerson under -add-parent
//	mixed      70% search-eq, 20% whoami, 10% bind (token or -D)
//
// Output: one JSON object on stdout. Over ldaps it includes "tls": the
// handshakes made, how many resumed a session (the client keeps a session
// cache), and the key exchanges and versions negotiated.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ldapd/ldapd/ldapserver/wire"
)

const maxDuration = 10 * time.Minute

type config struct {
	url, mode         string
	conc              int
	dur               time.Duration
	n                 int
	repeat            int
	bindDN, bindPW    string
	token             string
	pid               int
	ca                string
	base, userDN      string
	addParent         string
	attrs             []string
	scheme, host      string
	tlsConf           *tls.Config
	addPrefix         string
	insecureTLSVerify bool
	tlsResume         bool
	tlsX25519         bool
}

func main() {
	var cfg config
	var attrs string
	flag.StringVar(&cfg.url, "url", "ldap://127.0.0.1:3389", "server URL (ldap:// or ldaps://)")
	flag.StringVar(&cfg.mode, "mode", "whoami", "bind, bind-repeat, tokenbind, whoami, search-eq, search-sub, connect, modify, add or mixed")
	flag.IntVar(&cfg.conc, "c", 8, "concurrent connections")
	flag.DurationVar(&cfg.dur, "d", 10*time.Second, "measured duration (at most 10m)")
	flag.IntVar(&cfg.n, "n", 10000, "entries user1..userN to pick targets from")
	flag.IntVar(&cfg.repeat, "repeat", 100, "bind-repeat: the users user1..userR that bind again and again")
	flag.StringVar(&cfg.bindDN, "D", "", "bind DN (%d: a random entry number)")
	flag.StringVar(&cfg.bindPW, "w", "", "bind password")
	flag.StringVar(&cfg.token, "token", "", "API token: bind with dn=token")
	flag.IntVar(&cfg.pid, "pid", 0, "server process ID, for server CPU per operation")
	flag.StringVar(&cfg.ca, "ca", "", "PEM CA certificate for ldaps://")
	flag.BoolVar(&cfg.insecureTLSVerify, "insecure", false, "do not verify the server certificate")
	flag.BoolVar(&cfg.tlsResume, "resume", true, "keep TLS sessions and resume them on new connections (false: a full handshake each time)")
	flag.BoolVar(&cfg.tlsX25519, "x25519", false, "offer only the X25519 key exchange (what slapd with GnuTLS negotiates), not the post-quantum hybrid")
	flag.StringVar(&cfg.base, "b", "dc=idm,dc=example,dc=com", "search base")
	flag.StringVar(&cfg.userDN, "user", "uid=user%d,ou=people,dc=idm,dc=example,dc=com", "DN of entry N (modify target)")
	flag.StringVar(&cfg.addParent, "add-parent", "ou=people,dc=idm,dc=example,dc=com", "parent of added entries")
	flag.StringVar(&attrs, "attrs", "uid,cn,sn,mail", "attributes searches ask for")
	flag.Parse()
	cfg.attrs = strings.Split(attrs, ",")
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "ldapload:", err)
		os.Exit(2)
	}
	res, err := run(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ldapload:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
}

func (cfg *config) check() error {
	u, err := url.Parse(cfg.url)
	if err != nil {
		return err
	}
	cfg.scheme, cfg.host = u.Scheme, u.Host
	switch cfg.scheme {
	case "ldap":
		if u.Port() == "" {
			cfg.host = net.JoinHostPort(u.Hostname(), "389")
		}
	case "ldaps":
		if u.Port() == "" {
			cfg.host = net.JoinHostPort(u.Hostname(), "636")
		}
		cfg.tlsConf = &tls.Config{
			ServerName:         u.Hostname(),
			InsecureSkipVerify: cfg.insecureTLSVerify,
		}
		if cfg.tlsResume {
			cfg.tlsConf.ClientSessionCache = tls.NewLRUClientSessionCache(4096)
		}
		if cfg.tlsX25519 {
			cfg.tlsConf.CurvePreferences = []tls.CurveID{tls.X25519}
		}
		if cfg.ca != "" {
			pem, err := os.ReadFile(cfg.ca)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("%s: no certificate", cfg.ca)
			}
			cfg.tlsConf.RootCAs = pool
		}
	default:
		return fmt.Errorf("unsupported URL scheme %q", cfg.scheme)
	}
	switch cfg.mode {
	case "bind", "bind-repeat", "modify", "add":
		if cfg.bindDN == "" {
			return fmt.Errorf("mode %s needs -D and -w", cfg.mode)
		}
	case "tokenbind":
		if cfg.token == "" {
			return errors.New("mode tokenbind needs -token")
		}
	case "whoami", "search-eq", "search-sub", "connect", "mixed":
	default:
		return fmt.Errorf("unknown mode %q", cfg.mode)
	}
	if cfg.dur <= 0 || cfg.dur > maxDuration {
		return fmt.Errorf("-d must be in (0, %v]", maxDuration)
	}
	if cfg.conc < 1 || cfg.conc > 4096 || cfg.n < 1 {
		return errors.New("-c must be 1..4096 and -n positive")
	}
	if cfg.mode == "bind-repeat" {
		if cfg.repeat < 1 {
			return errors.New("-repeat must be positive")
		}
		cfg.n = min(cfg.n, cfg.repeat)
	}
	cfg.addPrefix = "load" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	return nil
}

// Result is the JSON report.
type Result struct {
	Mode              string  `json:"mode"`
	URL               string  `json:"url"`
	Concurrency       int     `json:"concurrency"`
	Seconds           float64 `json:"seconds"`
	Ops               int64   `json:"ops"`
	OpsPerSec         float64 `json:"ops_per_s"`
	P50us             float64 `json:"p50_us"`
	P99us             float64 `json:"p99_us"`
	Errors            int64   `json:"errors"`
	FirstError        string  `json:"first_error,omitempty"`
	ServerCPUusPerOp  float64 `json:"server_cpu_us_per_op,omitempty"`
	ClientCPUusPerOp  float64 `json:"client_cpu_us_per_op"`
	EntriesReturned   int64   `json:"entries_returned"`
	ServerCPUmeasured bool    `json:"server_cpu_measured"`

	// TLS is set for ldaps:// runs.
	TLS *TLSReport `json:"tls,omitempty"`
}

// TLSReport counts the TLS handshakes the client made (over ldaps: one
// per connection, so one per operation in connect mode), how many resumed
// a session, and the key exchanges and protocol versions negotiated.
type TLSReport struct {
	Handshakes  int64            `json:"handshakes"`
	Resumed     int64            `json:"resumed"`
	KeyExchange map[string]int64 `json:"key_exchange"`
	Versions    map[string]int64 `json:"versions"`
}

type stats struct {
	ops, errs, entries int64
	hist               histogram
	firstErr           error
	tls                tlsStats
}

// tlsStats counts the TLS handshakes of one worker, with the key exchange
// and version of each (named only in the TLSReport).
type tlsStats struct {
	handshakes, resumed int64
	kex                 map[tls.CurveID]int64
	vers                map[uint16]int64
}

func (t *tlsStats) add(st tls.ConnectionState) {
	if t.kex == nil {
		t.kex, t.vers = map[tls.CurveID]int64{}, map[uint16]int64{}
	}
	t.handshakes++
	if st.DidResume {
		t.resumed++
	}
	t.kex[st.CurveID]++
	t.vers[st.Version]++
}

func (t *tlsStats) merge(o *tlsStats) {
	if o.kex == nil {
		return
	}
	if t.kex == nil {
		t.kex, t.vers = map[tls.CurveID]int64{}, map[uint16]int64{}
	}
	t.handshakes += o.handshakes
	t.resumed += o.resumed
	for k, v := range o.kex {
		t.kex[k] += v
	}
	for k, v := range o.vers {
		t.vers[k] += v
	}
}

func run(cfg *config) (*Result, error) {
	workers := make([]*worker, cfg.conc)
	for i := range workers {
		w := &worker{cfg: cfg, idx: i, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		if cfg.mode != "connect" {
			if err := w.connect(); err != nil {
				return nil, fmt.Errorf("connection %d: %w", i, err)
			}
			if err := w.setupBind(); err != nil {
				return nil, fmt.Errorf("connection %d: %w", i, err)
			}
		}
		workers[i] = w
	}
	if err := warmUp(cfg, workers); err != nil {
		return nil, err
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	srv0, srvErr := procCPU(cfg.pid)
	cli0 := selfCPU()
	start := time.Now()
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(&stop)
		}()
	}
	time.Sleep(cfg.dur)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	srv1, _ := procCPU(cfg.pid)
	cli1 := selfCPU()

	var total stats
	for _, w := range workers {
		total.ops += w.st.ops
		total.errs += w.st.errs
		total.entries += w.st.entries
		total.hist.merge(&w.st.hist)
		total.tls.merge(&w.st.tls)
		if total.firstErr == nil {
			total.firstErr = w.st.firstErr
		}
		w.close()
	}
	res := &Result{
		Mode: cfg.mode, URL: cfg.url, Concurrency: cfg.conc, Seconds: elapsed.Seconds(),
		Ops: total.ops, Errors: total.errs, EntriesReturned: total.entries,
		OpsPerSec: float64(total.ops) / elapsed.Seconds(),
		P50us:     total.hist.quantile(0.50), P99us: total.hist.quantile(0.99),
	}
	if total.tls.handshakes > 0 {
		res.TLS = &TLSReport{Handshakes: total.tls.handshakes, Resumed: total.tls.resumed,
			KeyExchange: map[string]int64{}, Versions: map[string]int64{}}
		for k, v := range total.tls.kex {
			res.TLS.KeyExchange[k.String()] += v
		}
		for k, v := range total.tls.vers {
			res.TLS.Versions[tls.VersionName(k)] += v
		}
	}
	if total.firstErr != nil {
		res.FirstError = total.firstErr.Error()
	}
	if total.ops > 0 {
		res.ClientCPUusPerOp = float64((cli1 - cli0).Microseconds()) / float64(total.ops)
		if cfg.pid > 0 && srvErr == nil {
			res.ServerCPUusPerOp = float64((srv1 - srv0).Microseconds()) / float64(total.ops)
			res.ServerCPUmeasured = true
		}
	}
	return res, nil
}

// procCPU returns the user+system CPU time of process pid (all threads).
func procCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	// Fields 14 and 15 of stat (utime, stime), counted after the comm field.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat")
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// worker drives one connection (or, in connect mode, a series of them).
type worker struct {
	cfg   *config
	idx   int
	rng   *rand.Rand
	conn  net.Conn
	br    *bufio.Reader
	buf   []byte
	pkt   []byte
	msgID int
	seq   int
	st    stats
}

func (w *worker) connect() error {
	c, err := net.Dial("tcp", w.cfg.host)
	if err != nil {
		return err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if w.cfg.tlsConf != nil {
		t := tls.Client(c, w.cfg.tlsConf)
		if err := t.Handshake(); err != nil {
			c.Close()
			return err
		}
		w.st.tls.add(t.ConnectionState())
		c = t
	}
	_ = c.SetDeadline(time.Now().Add(w.cfg.dur + time.Minute))
	w.conn = c
	if w.br == nil {
		w.br = bufio.NewReaderSize(c, 16<<10)
	} else {
		w.br.Reset(c)
	}
	w.msgID = 0
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		w.buf = appendUnbind(w.buf[:0], w.nextID())
		_, _ = w.conn.Write(w.buf)
		_ = w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) nextID() int {
	w.msgID++
	if w.msgID > 1<<30 {
		w.msgID = 1
	}
	return w.msgID
}

// warmUp binds, in bind-repeat mode, as each of the -repeat users once
// before measuring, so that the measured binds are all repeats. It uses at
// most 4 connections: first binds are slow (a full password hash), and
// many of them at once from one address look like a flood of guesses to
// ldapd's throttle.
func warmUp(cfg *config, workers []*worker) error {
	if cfg.mode != "bind-repeat" {
		return nil
	}
	workers = workers[:min(len(workers), 4)]
	errs := make(chan error, len(workers))
	for i, w := range workers {
		go func() {
			for u := 1 + i; u <= cfg.n; u += len(workers) {
				dn := strings.Replace(cfg.bindDN, "%d", strconv.Itoa(u), 1)
				if err := w.expect(w.bind(dn, cfg.bindPW)); err != nil {
					errs <- fmt.Errorf("warm-up bind as %s: %w", dn, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// setupBind authenticates a persistent connection before measuring.
func (w *worker) setupBind() error {
	switch {
	case w.cfg.mode == "bind" || w.cfg.mode == "bind-repeat" || w.cfg.mode == "tokenbind":
		return nil
	case w.cfg.bindDN != "" && !strings.Contains(w.cfg.bindDN, "%d"):
		return w.expect(w.bind(w.cfg.bindDN, w.cfg.bindPW))
	case w.cfg.token != "":
		return w.expect(w.bind("dn=token", w.cfg.token))
	case w.cfg.bindDN != "":
		return w.expect(w.bind(w.userN(w.cfg.bindDN), w.cfg.bindPW))
	}
	return nil
}

func (w *worker) expect(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("result code %d", code)
	}
	return nil
}

func (w *worker) userN(format string) string {
	return strings.Replace(format, "%d", strconv.Itoa(1+w.rng.IntN(w.cfg.n)), 1)
}

func (w *worker) loop(stop *atomic.Bool) {
	for !stop.Load() {
		t0 := time.Now()
		code, err := w.op()
		d := time.Since(t0)
		w.st.ops++
		w.st.hist.add(d)
		if err != nil || code != 0 {
			w.st.errs++
			if w.st.firstErr == nil {
				if err == nil {
					err = fmt.Errorf("%s: result code %d", w.cfg.mode, code)
				}
				w.st.firstErr = err
			}
			if err != nil && w.cfg.mode != "connect" {
				if w.conn != nil {
					_ = w.conn.Close()
				}
				if w.connect() != nil || w.setupBind() != nil {
					return
				}
			}
		}
	}
}

func (w *worker) op() (int, error) {
	switch w.cfg.mode {
	case "bind", "bind-repeat":
		return w.bind(w.userN(w.cfg.bindDN), w.cfg.bindPW)
	case "tokenbind":
		return w.bind("dn=token", w.cfg.token)
	case "whoami":
		return w.whoami()
	case "search-eq":
		return w.search(false)
	case "search-sub":
		return w.search(true)
	case "connect":
		return w.connectBindUnbind()
	case "modify":
		return w.modify()
	case "add":
		return w.add()
	case "mixed":
		switch p := w.rng.IntN(10); {
		case p < 7:
			return w.search(false)
		case p < 9:
			return w.whoami()
		default:
			if w.cfg.token != "" {
				return w.bind("dn=token", w.cfg.token)
			}
			return w.bind(w.userN(w.cfg.bindDN), w.cfg.bindPW)
		}
	}
	return 0, errors.New("unknown mode")
}

// roundTrip sends w.buf and reads responses until the result (a message
// that is not a search entry or reference) arrives.
func (w *worker) roundTrip() (int, error) {
	if _, err := w.conn.Write(w.buf); err != nil {
		return 0, err
	}
	for {
		var err error
		w.pkt, err = wire.AppendPacket(w.pkt[:0], w.br, 0)
		if err != nil {
			return 0, err
		}
		r, ok := parseResponse(w.pkt)
		if !ok {
			return 0, errors.New("unparseable response")
		}
		if r.id == 0 {
			return 0, fmt.Errorf("notice of disconnection, code %d", r.code)
		}
		if r.tag == appSearchEntry {
			w.st.entries++
			continue
		}
		if r.tag == appSearchReference {
			continue
		}
		return r.code, nil
	}
}

func (w *worker) bind(dn, pw string) (int, error) {
	w.buf = appendBind(w.buf[:0], w.nextID(), dn, pw)
	return w.roundTrip()
}

func (w *worker) whoami() (int, error) {
	w.buf = appendWhoAmI(w.buf[:0], w.nextID())
	return w.roundTrip()
}

func (w *worker) search(sub bool) (int, error) {
	n := 1 + w.rng.IntN(w.cfg.n)
	if sub {
		n = w.cfg.n/2 + w.rng.IntN(w.cfg.n-w.cfg.n/2) + 1
	}
	var num [20]byte
	if sub {
		v := strconv.AppendInt(num[:0], int64(n), 10)
		w.buf = appendSearch(w.buf[:0], w.nextID(), w.cfg.base, "cn", string(v), true, w.cfg.attrs)
	} else {
		v := append(append(num[:0], "user"...), strconv.Itoa(n)...)
		w.buf = appendSearch(w.buf[:0], w.nextID(), w.cfg.base, "uid", string(v), false, w.cfg.attrs)
	}
	return w.roundTrip()
}

func (w *worker) modify() (int, error) {
	w.seq++
	w.buf = appendModifyReplace(w.buf[:0], w.nextID(), w.userN(w.cfg.userDN), "description",
		"ldapload "+strconv.Itoa(w.idx)+" "+strconv.Itoa(w.seq))
	return w.roundTrip()
}

func (w *worker) add() (int, error) {
	w.seq++
	uid := w.cfg.addPrefix + "w" + strconv.Itoa(w.idx) + "n" + strconv.Itoa(w.seq)
	w.buf = appendAdd(w.buf[:0], w.nextID(), "uid="+uid+","+w.cfg.addParent,
		"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson", "objectClass", "inetOrgPerson",
		"uid", uid, "cn", "Load "+uid, "sn", uid, "mail", uid+"@example.com")
	return w.roundTrip()
}

func (w *worker) connectBindUnbind() (int, error) {
	if err := w.connect(); err != nil {
		return 0, err
	}
	defer w.close()
	switch {
	case w.cfg.token != "":
		return w.bind("dn=token", w.cfg.token)
	case w.cfg.bindDN != "":
		return w.bind(w.userN(w.cfg.bindDN), w.cfg.bindPW)
	}
	return w.whoami()
}
