// Command member runs one embedded etcd member for ldapd's tests
// (etcdtest.Options.Subprocess), so that a test can SIGKILL a member as a
// crash would, which an in-process member cannot survive. It prints
// "ready" on stdout once the member serves, and closes it on SIGTERM.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	name := flag.String("name", "m0", "member name")
	dir := flag.String("dir", "", "data directory")
	client := flag.String("client", "", "client URL")
	peer := flag.String("peer", "", "peer URL")
	initial := flag.String("initial-cluster", "", "name=peerURL,...")
	maxTxnOps := flag.Uint("max-txn-ops", 0, "--max-txn-ops (0: etcd's default)")
	maxRequestBytes := flag.Uint("max-request-bytes", 0, "--max-request-bytes (0: etcd's default)")
	noFsync := flag.Bool("no-fsync", false, "--unsafe-no-fsync")
	logFile := flag.String("log", "", "log file")
	flag.Parse()

	parse := func(s string) url.URL {
		u, err := url.Parse(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		return *u
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = *name, *dir
	cu, pu := parse(*client), parse(*peer)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = *initial
	cfg.InitialClusterToken = "ldapd-test"
	cfg.LogLevel = "error"
	if *logFile != "" {
		cfg.LogOutputs = []string{*logFile}
	}
	cfg.UnsafeNoFsync = *noFsync
	if *maxTxnOps != 0 {
		cfg.MaxTxnOps = *maxTxnOps
	}
	if *maxRequestBytes != 0 {
		cfg.MaxRequestBytes = *maxRequestBytes
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-e.Server.ReadyNotify():
		fmt.Println("ready")
	case err := <-e.Err():
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	select {
	case <-sig:
		e.Close()
	case err := <-e.Err():
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
