# kseries: the two README commands on a fresh Debian 12 machine are
#   make test-kernel   decide the offline profile's review claims on Debian's 6.1 (builds and boots)
#   make test          unit tests and one end-to-end build+boot
# Both install what they need first (make deps).

# Installed with --no-install-recommends, so everything used is listed: libc6-dev is only a
# Recommends of gcc (static guest binaries, kernel host tools). QEMU's -kernel boot firmware
# (seabios, linuxboot_dma.bin in qemu-system-data, ipxe-qemu NIC ROMs) are hard Depends of
# qemu-system-x86; its Recommends (gui, utils, ovmf, block-extra) are unused with -display none.
# busybox-static is the guest shell (image/runtime.ts); rsync is what kselftest's `make install` copies with.
SYSTEM_PACKAGES := git make gcc libc6-dev gcc-multilib flex bison bc libelf-dev libssl-dev cpio ccache \
                   qemu-system-x86 xz-utils patch linux-source-6.1 busybox-static rsync
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
KSERIES := node bin/kseries.js
HARNESS_SOURCES := $(shell find harness -name '*.ts')

.PHONY: deps system-deps node-deps chromium-deps lava-deps dist test test-unit test-e2e test-kernel bench typecheck images clean

deps: system-deps node-deps

# apt-get only when something is missing, so repeated runs are fast and offline-safe.
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Optional: Debian's lava-dispatcher, whose lava-run runs a `kseries plan --emit lava` job here (its e2e test skips without it).
lava-deps:
	@dpkg-query -W -f='$${Status}\n' lava-dispatcher 2>/dev/null | grep -q 'install ok installed' || \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends lava-dispatcher; }

# Optional: Debian's chromium, for the HTML report's screenshot tests (they skip without it).
chromium-deps:
	@dpkg-query -W -f='$${Status}\n' chromium 2>/dev/null | grep -q 'install ok installed' || \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

node-deps: node_modules/.kseries-stamp
node_modules/.kseries-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# bin/kseries.js runs the compiled CLI; rebuilt whenever a harness/*.ts changes.
dist: dist/.stamp
dist/.stamp: $(HARNESS_SOURCES) tsconfig.json tsconfig.build.json node_modules/.kseries-stamp
	rm -rf dist
	npx tsc -p tsconfig.build.json
	touch $@

typecheck: node-deps
	npx tsc -p tsconfig.json

test: deps typecheck dist
	npx tap

test-unit: node-deps dist
	npx tap --exclude='test/e2e*.test.ts'

# The main job: decide the offline profile's review claims on Debian's 6.1 and print the verdicts.
test-kernel: deps dist
	$(KSERIES) claims compat-sqpoll-6.1 --out runs/test-kernel
	@echo "reports: runs/test-kernel/claims.txt, claims.md and claims.json"

bench: deps dist
	$(KSERIES) bench --out runs/bench

images:
	$(MAKE) -C images

clean:
	rm -rf runs images/out dist
