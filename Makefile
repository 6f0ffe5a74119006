# SPDX-License-Identifier: GPL-2.0
#
# cpns: make builds kernel/cpns.ko against KDIR and the tools.
# See README.md for the targets.

# The running kernel's build directory when it has one, else the newest.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(lastword $(sort $(wildcard /lib/modules/*/build))))
CPNS_SHARED ?= $(CURDIR)/../shared
PREFIX ?= /usr/local
DESTDIR ?=

all: module tools

module:
	@test -n "$(KDIR)" || { echo "no kernel build directory: run 'make deps' or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools

deps:
	scripts/deps.sh

check:
	CPNS_SHARED=$(CPNS_SHARED) scripts/check.sh

fuzz:
	$(MAKE) -C tools fuzz

bench:
	scripts/bench.sh

# make vmtest KERNEL=stock|debug TESTS="traffic_test ...": some kselftests
# in one guest. The tests go to the script as arguments; the sub-makes it
# runs must not see TESTS (tools/ has a variable of that name).
KERNEL ?= stock
vmtest:
	MAKEFLAGS= MAKEOVERRIDES= CPNS_SHARED=$(CPNS_SHARED) scripts/vmtest.sh $(KERNEL) $(TESTS)

demo:
	scripts/demo.sh

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C tools clean
	rm -rf build

.PHONY: all module tools deps check fuzz bench demo vmtest install clean
