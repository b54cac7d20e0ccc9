# vmmanager — the README's commands. Run as root on Debian 12 (the testbed starts libvirtd).
#   make demo           install, build, bring the testbed up and tour the main job end to end
#   make test           the whole suite: unit tests and integration tests with real guests
#   make testbed        libvirtd + guest image (NODES=2 adds node B for live migration)
#   make testbed-down   stop only what the testbed started
#   make test-cluster   the failover scenarios under real heartbeat v1 and Pacemaker/Corosync
#   make cluster-lab STACK=heartbeat|pacemaker / make cluster-lab-down   the two-node lab by hand
#   make deb            the Debian package, .build/deb/vmmanager_<version>_amd64.deb

SHELL        := /bin/bash
NODES        ?= 2
TESTBED_DIR  ?= /var/lib/vmmanager-testbed
SWIFT        ?= swift
CONFIG       ?= debug
BIN          := .build/$(CONFIG)

export TESTBED_DIR

.PHONY: all build release deps testbed testbed-down test unit-test integration-test demo bench install uninstall clean fuzz soak \
	cluster-lab cluster-lab-down test-cluster bench-cluster deb format format-check

PREFIX       ?= /usr/local
DESTDIR      ?=
SYSCONFDIR   ?= /etc
OCF_ROOT_DIR ?= /usr/lib/ocf
HA_RESOURCE_DIR ?= /etc/ha.d/resource.d
# Release builds link the Swift runtime statically: the agent starts ~3 ms faster, and Pacemaker starts
# it afresh at every monitor interval for every guest.
RELEASE_FLAGS := -c release --static-swift-stdlib
# The version is written once, in Sources/VMManager/Version.swift; the executables and the package read it there.
VERSION      := $(shell sed -n 's/^public let vmmanagerVersion = "\(.*\)"$$/\1/p' Sources/VMManager/Version.swift)
DEB_DIR      ?= .build/deb

all: build

# C libraries the package links (libvirt, libxml2); the testbed installs the rest.
deps:
	@bash testbed/install-packages.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

# The tree is kept formatted by swift-format (the toolchain's), configured in .swift-format (120 columns).
format:
	swift-format format --configuration .swift-format --in-place --parallel --recursive Sources Tests Package.swift

format-check:
	swift-format lint --configuration .swift-format --strict --parallel --recursive Sources Tests Package.swift

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
	$(SWIFT) test --skip-build --filter 'LibvirtTests|VMManagerTests|VMCtlTests|NotifierTests'

integration-test: testbed
	$(SWIFT) build --build-tests
	VMMANAGER_TESTBED=$(TESTBED_DIR)/testbed.env $(SWIFT) test --skip-build --no-parallel --filter IntegrationTests

# The two-node cluster lab (testbed/cluster/): nodes alpha and bravo, each in its own namespaces with its
# own libvirtd, vmmanager installed into each by `make install DESTDIR=`, a LAN with a client, mail to a
# real SMTP server. STACK=heartbeat (the thesis's haresources) or STACK=pacemaker.
STACK        ?= heartbeat
CLUSTER_RESULTS ?= .build/cluster-results.json

cluster-lab: release
	@bash testbed/cluster/lab.sh up $(STACK)

cluster-lab-down:
	@bash testbed/cluster/lab.sh down

# Every failover scenario, heartbeat's then Pacemaker's, each lab brought up and taken down again; the
# figures go to $(CLUSTER_RESULTS).
test-cluster: release
	@bash testbed/cluster/lab.sh down >/dev/null
	@rm -f $(CLUSTER_RESULTS)
	@status=0; \
	/usr/bin/python3 testbed/cluster/scenarios.py heartbeat --results $(CLUSTER_RESULTS) || status=1; \
	/usr/bin/python3 testbed/cluster/scenarios.py pacemaker --results $(CLUSTER_RESULTS) || status=1; \
	exit $$status

# The same scenarios, their figures recorded in docs/benchmarks.md ("Cluster failover").
bench-cluster: test-cluster
	@/usr/bin/python3 bench/cluster_report.py $(CLUSTER_RESULTS) --into docs/benchmarks.md

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

demo: testbed release
	$(SWIFT) build
	@bash examples/demo.sh

# libFuzzer fuzz targets (Fuzz/), FUZZ_SECONDS each (default 60), built in .build-fuzz; findings in Fuzz/findings/.
fuzz: deps
	@bash scripts/fuzz.sh

# Many guests, every guest's monitor on both nodes in a loop while guests start, stop and migrate, with
# vmctl watch running: SOAK_SECONDS (600), SOAK_GUESTS (10). Prints wrong answers, failures, watch's RSS.
soak: testbed
	$(SWIFT) build
	@bash bench/soak.sh

# vmmanager against resource-agents' VirtualDomain and virsh side by side, failover under admission control, how costs
# grow with guests and memory, the monitor through vmctl watch: into docs/benchmarks.md (QUICK=1: a short run).
bench: testbed release
	@bash bench/run.sh

# Installs both executables (the agent's front as $(PREFIX)/sbin/vmmanager, the full agent it runs as
# $(PREFIX)/lib/vmmanager/vmmanager-agent), the agent's heartbeat and OCF entry points (links), the man pages, the
# completions, the watcher's systemd unit and the Pacemaker alert agent (both pointing at $(PREFIX)/sbin/vmctl),
# the spool directory, and a commented configuration file (only if none exists).
install: release
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 .build/release/vmmanager $(DESTDIR)$(PREFIX)/sbin/vmmanager
	install -d $(DESTDIR)$(PREFIX)/lib/vmmanager
	install -m 0755 .build/release/vmmanager-agent $(DESTDIR)$(PREFIX)/lib/vmmanager/vmmanager-agent
	install -m 0755 .build/release/vmctl $(DESTDIR)$(PREFIX)/sbin/vmctl
	install -m 0644 Resources/man/vmmanager.8 $(DESTDIR)$(PREFIX)/share/man/man8/vmmanager.8
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0644 Resources/man/vmctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/vmctl.8
	install -m 0644 Resources/completions/vmctl.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vmctl
	install -m 0644 Resources/completions/_vmctl $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vmctl
	install -m 0644 Resources/completions/vmctl.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vmctl.fish
	install -d $(DESTDIR)$(HA_RESOURCE_DIR) $(DESTDIR)$(OCF_ROOT_DIR)/resource.d/vmmanager
	ln -sf $(PREFIX)/sbin/vmmanager $(DESTDIR)$(HA_RESOURCE_DIR)/vmmanager
	ln -sf $(PREFIX)/sbin/vmmanager $(DESTDIR)$(OCF_ROOT_DIR)/resource.d/vmmanager/guest
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/vmmanager
	sed -e 's|/usr/sbin/vmctl|$(PREFIX)/sbin/vmctl|g' -e 's|/etc/vmmanager/|$(SYSCONFDIR)/vmmanager/|g' \
		Resources/systemd/vmmanager-watch.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/vmmanager-watch.service
	sed -e 's|/usr/sbin/vmctl|$(PREFIX)/sbin/vmctl|g' -e 's|/etc/vmmanager/|$(SYSCONFDIR)/vmmanager/|g' \
		-e 's|/usr/share/vmmanager/|$(PREFIX)/share/vmmanager/|g' \
		Resources/pacemaker/alert_vmmanager.sh >$(DESTDIR)$(PREFIX)/share/vmmanager/alert_vmmanager.sh
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/vmmanager-watch.service
	chmod 0755 $(DESTDIR)$(PREFIX)/share/vmmanager/alert_vmmanager.sh
	install -d -m 0700 $(DESTDIR)/var/spool/vmmanager
	install -d $(DESTDIR)$(SYSCONFDIR)/vmmanager/guests
	test -e $(DESTDIR)$(SYSCONFDIR)/vmmanager/vmmanager.conf || \
		install -m 0644 Resources/config/vmmanager.conf $(DESTDIR)$(SYSCONFDIR)/vmmanager/vmmanager.conf

# Removes what install put there. Kept: a vmmanager.conf that differs from the sample (it was edited),
# guests' XML in $(SYSCONFDIR)/vmmanager/guests, and the data in /var/spool/vmmanager and /var/lib/vmmanager;
# vmmanager's own directories go only when they are empty.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/vmmanager $(DESTDIR)$(PREFIX)/sbin/vmctl \
		$(DESTDIR)$(PREFIX)/lib/vmmanager/vmmanager-agent \
		$(DESTDIR)$(PREFIX)/share/man/man8/vmmanager.8 $(DESTDIR)$(HA_RESOURCE_DIR)/vmmanager \
		$(DESTDIR)$(OCF_ROOT_DIR)/resource.d/vmmanager/guest $(DESTDIR)$(PREFIX)/share/man/man8/vmctl.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/vmctl $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vmctl \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vmctl.fish \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/vmmanager-watch.service \
		$(DESTDIR)$(PREFIX)/share/vmmanager/alert_vmmanager.sh
	! cmp -s Resources/config/vmmanager.conf $(DESTDIR)$(SYSCONFDIR)/vmmanager/vmmanager.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/vmmanager/vmmanager.conf
	for dir in $(DESTDIR)$(OCF_ROOT_DIR)/resource.d/vmmanager $(DESTDIR)$(PREFIX)/share/vmmanager \
		$(DESTDIR)$(PREFIX)/lib/vmmanager \
		$(DESTDIR)$(SYSCONFDIR)/vmmanager/guests $(DESTDIR)$(SYSCONFDIR)/vmmanager $(DESTDIR)/var/spool/vmmanager; do \
		if [ -d "$$dir" ]; then rmdir --ignore-fail-on-non-empty "$$dir"; fi; \
	done

# The Debian package: `make install` into a staging tree with PREFIX=/usr, then packaging/build-deb.sh
# (dpkg-deb; maintainer scripts, conffiles and the tmpfiles.d entry in packaging/debian/).
deb: release
	rm -rf $(DEB_DIR)/root
	$(MAKE) --no-print-directory -o release -o deps install DESTDIR=$(abspath $(DEB_DIR))/root PREFIX=/usr
	@bash packaging/build-deb.sh $(DEB_DIR)/root $(DEB_DIR) $(VERSION)

clean:
	rm -rf .build
