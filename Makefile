# ldapd: make run serves on the embedded default; make test runs everything.
GO       ?= go
DATA     ?= ./data
DOMAIN   ?= idm.example.com
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
FUZZTIME ?= 10s

.PHONY: e2e build run test test-short vet fuzz soak bench bench-observe bench-1m bench-go deps clean interop interop-deps cluster-test

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ldapd ./cmd/ldapd

run: build
	./bin/ldapd serve --data $(DATA) --domain $(DOMAIN) --log-format console

# The whole suite: vet, unit, conformance and integration tests (the latter
# drive OpenLDAP's ldap-utils, which `deps` installs on Debian when missing).
test: deps vet
	$(GO) test -race -count=1 ./...
	python3 scripts/bench/report_test.py
	python3 scripts/bench/scale_test.py

test-short:
	$(GO) test -short ./...

# Scale-out (docs/scale-out.md): 3 etcd member processes and ldapd nodes on
# loopback (in-process, and `ldapd serve` processes for the ones that are
# SIGKILLed or cut off); writes on one node read on the other, token
# revocation across nodes, CPU against bbolt, a partitioned node, failover
# of the etcd leader and of a node under write load (about 2 minutes).
# Behind the build tag "cluster"; it logs the figures the doc reports. The
# 100k-entry start is opt-in: LDAPD_CLUSTER_BIG=100000 (docs/scale-out.md).
cluster-test:
	$(GO) vet -tags cluster ./internal/clustertest/
	$(GO) test -tags cluster -count=1 -timeout 5m -v ./internal/clustertest/

vet:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:" $$unformatted >&2; exit 1; fi
	$(GO) vet ./...

# Run every native fuzz target for FUZZTIME each.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# The long reliability runs (docs/reliability.md): 60 SIGKILL rounds,
# 8,000 held connections, 1,000 slowloris clients, then every fuzz target
# for SOAK_FUZZTIME. make test runs the same tests at their short sizes.
SOAK_FUZZTIME ?= 2m
soak:
	LDAPD_SOAK=1 $(GO) test -count=1 -timeout 90m -v \
		-run 'TestCrashRecovery|TestSIGTERMUnderLoad|TestBackupRestoreUnderLoad|TestHostileInput|TestHeldConnections|TestSlowloris|TestFailedCommits' \
		./cmd/ldapd ./ldapserver ./internal/stacktest
	./scripts/fuzz.sh $(SOAK_FUZZTIME)

# ldapd against OpenLDAP's slapd, side by side, each as shipped (ldapd:
# default log level, --metrics on; slapd: loglevel none), installing slapd
# if missing (N, RUNS, DUR, C tune it). Regenerates docs/performance.md.
# bench-observe: what ldapd's access log and metrics cost it (observe.sh).
# Neither is run by make test or CI.
bench:
	./scripts/bench/run.sh

bench-observe:
	./scripts/bench/observe.sh

# bench-1m: docs/performance-1m.md, 10k and 1M entries back to back (scale.sh).
bench-1m:
	./scripts/bench/scale.sh

# The Go benchmarks of the hot paths.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# ldap-utils for the integration tests (Debian/Ubuntu; needs root to install).
deps:
	@command -v ldapwhoami >/dev/null || { \
	  echo "installing ldap-utils (OpenLDAP's clients) for the integration tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ldap-utils >/dev/null; } || { \
	  echo "could not install ldap-utils: run 'sudo apt-get install ldap-utils'" >&2; exit 1; }

clean:
	rm -rf bin

# Real applications from Debian against a built ldapd on loopback, binding
# with API tokens: Apache mod_authnz_ldap, nslcd (getent, in a private mount
# namespace), Python ldap3 and python-ldap, SSSD-shaped requests. Each
# script runs under a timeout; `make interop-deps` installs the packages.
interop: build
	./interop/run.sh

interop-deps:
	./interop/deps.sh

# The console in a real browser (docs/console.md): Debian's headless
# Chromium driven by chromedp, behind the build tag "e2e" so that make test
# needs no browser. Installs chromium when missing (root, Debian).
# CONSOLE_SCREENSHOTS=docs/console also refreshes the screenshots.
E2E_TIMEOUT ?= 5m
e2e: deps
	@command -v chromium >/dev/null || { \
	  echo "installing chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { \
	  echo "could not install chromium: run 'sudo apt-get install chromium'" >&2; exit 1; }
	timeout $(E2E_TIMEOUT) $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -run TestBrowser -v ./console/
