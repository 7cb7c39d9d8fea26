# snapback — see README.md. Everything the tests need (moto's server, cargo-lambda, zig) is
# installed from PyPI into a project-local virtualenv, once.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
MOTO_VERSION := 5.2.5
CARGO_LAMBDA_VERSION := 1.9.2
TOOLS := $(VENV)/.tools-$(MOTO_VERSION)-$(CARGO_LAMBDA_VERSION)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help tools build-dev test demo bench rules-doc manifest lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(TOOLS):
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check \
		'moto[server]==$(MOTO_VERSION)' 'cargo-lambda==$(CARGO_LAMBDA_VERSION)'
	@touch $@

tools: $(TOOLS) ## install moto's server, cargo-lambda and zig into .venv (idempotent)

build-dev: ## build every crate, binary and test (dev profile)
	cargo build --workspace --bins --tests

test: tools build-dev ## unit, integration (moto) and end-to-end (cargo-lambda runtime) tests
	scripts/with-moto.sh cargo test --workspace --no-fail-fast

# The demo uses the binaries of the test build (same features: nothing is compiled twice).
demo: tools build-dev ## watch a world-open SSH rule and a public EKS endpoint get reverted on a local AWS emulator
	scripts/with-moto.sh target/debug/demo

bench: tools ## cold start, decision time, warm revoke + alert, peak RSS (see docs/BENCHMARKS.md)
	cargo build --release -p sg-guard -p eks-guard
	@$(VENV)/bin/python -c 'import io, zipfile; b = io.BytesIO(); z = zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED, compresslevel=9); \
		z.write("target/release/sg-guard", "bootstrap"); z.close(); print("sg-guard bootstrap.zip: %.2f MB" % (len(b.getvalue()) / 1e6))'
	cargo bench -p snapback-rules --bench decision
	scripts/with-moto.sh cargo run -p snapback-tests --bin bench-guard

rules-doc: ## regenerate RULES.md from the rule registry
	cargo run -q -p snapback-cli -- rules --markdown > RULES.md

manifest: ## regenerate infra/modules/snapback/manifest.json from the rule registry
	cargo run -q -p snapback-cli -- manifest > infra/modules/snapback/manifest.json

lint: ## clippy and rustfmt
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	cargo clean
	rm -rf $(VENV)
