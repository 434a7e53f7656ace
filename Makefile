# Fulcrum — the two front-door commands are `make run` and `make test`.
SWIFT ?= swift
DATA ?= ./data

.PHONY: setup build run test stress benchmarks compare clean proto

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product fulcrum

# Sets up, builds, and runs the main job: the ledger demo on an embedded data directory.
run: build
	.build/release/fulcrum demo --data $(DATA)
	.build/release/fulcrum verify --data $(DATA)

# Sets up and runs the whole test suite.
test: setup
	$(SWIFT) test --parallel --num-workers 2

# A soak of the ledger: 64 concurrent submitters, then a refold.
stress: build
	rm -rf /tmp/fulcrum-stress && .build/release/fulcrum stress --data /tmp/fulcrum-stress --commands 200000

# In-process benchmarks (ordo-one/benchmark), a package of its own.
benchmarks: setup
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

# Strategies side by side, and Fulcrum beside glpsol, on one generated stream.
compare: build
	python3 scripts/compare-solvers.py --count 300

clean:
	rm -rf .build Benchmarks/.build

# Regenerates the committed protobuf code from Sources/FulcrumWire/fulcrum.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from
# swift-protobuf 1.39.0 (PROTOC_GEN_SWIFT=path/to/protoc-gen-swift).
PROTOC_GEN_SWIFT ?= $(shell command -v protoc-gen-swift)
proto:
	protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --swift_opt=Visibility=Public \
		--swift_out=Sources/FulcrumWire/Generated -I Sources/FulcrumWire Sources/FulcrumWire/fulcrum.proto
