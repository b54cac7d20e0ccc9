# vmmanager — the README's commands. Run as root on Debian 12 (the testbed starts libvirtd).
#   make demo           install, build, bring the testbed up and tour the main job end to end
#   make test           the whole suite: unit tests and integration tests with real guests
#   make testbed        libvirtd + guest image (NODES=2 adds node B for live migration)
#   make testbed-down   stop only what the testbed started

SHELL        := /bin/bash
NODES        ?= 2
TESTBED_DIR  ?= /var/lib/vmmanager-testbed
SWIFT        ?= swift
CONFIG       ?= debug
BIN          := .build/$(CONFIG)

export TESTBED_DIR

.PHONY: all build deps testbed testbed-down test unit-test integration-test demo clean

all: build

# C libraries the package links (libvirt, libxml2); the testbed installs the rest.
deps:
	@bash testbed/install-packages.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

testbed:
	@NODES=$(NODES) bash testbed/up.sh

testbed-down:
	@bash testbed/down.sh

# Unit tests need no daemon (libvirt's test:///default driver); integration tests need the testbed.
# VMMANAGER_TESTBED makes the integration tests fail, not skip, when the testbed is missing.
test: testbed
	$(SWIFT) build --build-tests
	VMMANAGER_TESTBED=$(TESTBED_DIR)/testbed.env $(SWIFT) test --skip-build --no-parallel

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'LibvirtTests|VMManagerTests'

integration-test: testbed
	$(SWIFT) build --build-tests
	VMMANAGER_TESTBED=$(TESTBED_DIR)/testbed.env $(SWIFT) test --skip-build --no-parallel --filter IntegrationTests

demo: testbed
	$(SWIFT) build
	@bash examples/demo.sh

clean:
	rm -rf .build
