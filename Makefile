# ldapd: make run serves on the embedded default; make test runs everything.
GO       ?= go
DATA     ?= ./data
DOMAIN   ?= idm.example.com
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: build run test test-short vet fuzz bench deps clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ldapd ./cmd/ldapd

run: build
	./bin/ldapd serve --data $(DATA) --domain $(DOMAIN) --log-format console

# The whole suite: vet, unit, conformance and integration tests (the latter
# drive OpenLDAP's ldap-utils; `make deps` installs them on Debian).
test: vet
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -short ./...

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt needed" && exit 1)
	$(GO) vet ./...

# Run every native fuzz target for FUZZTIME each.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

deps:
	@command -v ldapwhoami >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ldap-utils)

clean:
	rm -rf bin
