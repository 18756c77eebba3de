# Helpline: the two commands are `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin

DEV_PG_PORT  ?= 5433
TEST_PG_PORT ?= 5434
HELPLINE_DATABASE_URL ?= postgres://helpline:helpline@127.0.0.1:$(DEV_PG_PORT)/helpline?sslmode=disable
export HELPLINE_DATABASE_URL

.PHONY: run test browser test-faults test-deploy test-hostile build generate check-generated lint postgres test-postgres stop-postgres clean bench bench-stats

## run: start PostgreSQL (installing it if needed), migrate, seed demo data, serve everything in one process
run: build postgres
	./bin/helpline serve -seed

## build: compile the server to bin/helpline and the operator CLI to bin/helplinectl
build:
	go build -o bin/helpline ./cmd/helpline
	go build -o bin/helplinectl ./cmd/helplinectl

## test: every test, against a real PostgreSQL and in-process NATS; the console's in headless Chromium
test: test-postgres browser
	HELPLINE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$(TEST_PG_PORT)/postgres?sslmode=disable HELPLINE_BROWSER_TESTS=1 \
		go test -count=1 -timeout 20m ./...

## browser: install Debian's chromium and chromium-driver when missing (for the console's browser test)
browser:
	scripts/chromium.sh

## test-faults: the fault-injection suite: the real binaries as processes, kill -9, NATS and PostgreSQL
## outages, a NATS cluster losing a node, two replicas; prints a table per scenario (~5 minutes)
test-faults: test-postgres
	HELPLINE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$(TEST_PG_PORT)/postgres?sslmode=disable \
		go test -tags faults -count=1 -timeout 20m -v ./test/faults/

## test-deploy: the deployment rehearsal: nginx (Debian's, installed when missing) terminating TLS in front of two
## `helpline serve` replicas, a 3-node NATS cluster with passwords, one PostgreSQL; headless Chromium on a LAN
## hostname over HTTP and HTTPS; a replica killed mid-session; login throttling from two client addresses
test-deploy: test-postgres browser
	scripts/nginx.sh
	HELPLINE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$(TEST_PG_PORT)/postgres?sslmode=disable HELPLINE_BROWSER_TESTS=1 \
		go test -tags deploy -count=1 -timeout 20m -v ./test/deploy/

## test-hostile: the hostile-client suite: every finding of the black-box probe replayed as an attack; prints a table
test-hostile: test-postgres
	HELPLINE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$(TEST_PG_PORT)/postgres?sslmode=disable \
		go test -tags hostile -count=1 -timeout 20m -v ./test/hostile/

## generate: regenerate api/ and the OpenAPI document from proto/ (buf from tools/go.mod; the protoc plugins from go.mod)
generate:
	go tool -modfile=tools/go.mod buf generate

## check-generated: fail when the committed generated code differs from a fresh generation
check-generated: generate
	git diff --exit-code -- api/ internal/gateway/openapi/
	@test -z "$$(git status --porcelain -- api/ internal/gateway/openapi/)" || { git status --porcelain -- api/ internal/gateway/openapi/; exit 1; }

## lint: gofmt, go vet and buf lint
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go tool -modfile=tools/go.mod buf lint

postgres:
	@if ! pg_isready -q -d "$(HELPLINE_DATABASE_URL)" 2>/dev/null; then \
		scripts/postgres.sh start dev $(DEV_PG_PORT) && scripts/postgres.sh dev-db $(DEV_PG_PORT); \
	fi

test-postgres:
	scripts/postgres.sh start test $(TEST_PG_PORT)

stop-postgres:
	scripts/postgres.sh stop dev
	scripts/postgres.sh stop test
	scripts/postgres.sh stop bench

clean:
	rm -rf bin .data

BENCH_PG_PORT ?= 5435

## bench: the load benchmark: a durable PostgreSQL of its own (fsync and synchronous_commit on), `helpline serve`
## as a separate process, gRPC clients logged in as agents and officers; prints a table, writes bench/results.json
bench: build
	scripts/postgres.sh start bench $(BENCH_PG_PORT)
	go build -o bin/helpline-bench ./cmd/helpline-bench
	./bin/helpline-bench load -server bin/helpline -admin-url postgres://postgres@127.0.0.1:$(BENCH_PG_PORT)/postgres?sslmode=disable $(BENCH_FLAGS)

## bench-stats: load 1 million complaints' statistics and time every StatsService query (prints a table)
bench-stats: postgres
	go run ./cmd/helpline-bench stats -complaints 1000000
