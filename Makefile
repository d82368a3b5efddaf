# carrier: build with this Makefile alone.  See README.
.POSIX:

VERSION    = 0.1.0
PREFIX     = /usr/local
BINDIR     = $(PREFIX)/bin
SBINDIR    = $(PREFIX)/sbin
LIBDIR     = $(PREFIX)/lib
MANDIR     = $(PREFIX)/share/man
SYSCONFDIR = /etc
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

CC      = cc
CFLAGS  = -O2 -g
WARN    = -std=c17 -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2
# CI adds -Werror through WERROR=-Werror.
WERROR  =
# libidn2: international domain names; libcurl (the GnuTLS build) and
# json-c: OAuth2 token requests only.
PKGS    = gnutls libbsd-overlay libidn2 libcurl json-c
PKG_CFLAGS = `pkg-config --cflags $(PKGS)`
PKG_LIBS   = `pkg-config --libs $(PKGS)`
DEFS    = -D_GNU_SOURCE -DCARRIER_VERSION='"$(VERSION)"' \
          -DSYSCONFDIR='"$(SYSCONFDIR)"' \
          -DLIBBSD_BUILD_VERSION="\"`pkg-config --modversion libbsd`\""
ALL_CFLAGS = $(WARN) $(WERROR) $(DEFS) $(PKG_CFLAGS) $(CFLAGS)

LIB_SRC = src/address.c src/attempt.c src/auth.c src/batch.c src/cli.c \
          src/config.c src/config_parse.c src/deliver.c \
          src/encoder.c src/envelope.c src/flush.c src/headers.c \
          src/oauth2.c src/oauth2_http.c src/oauth2_store.c \
          src/outcome.c src/params.c src/progress.c src/query.c src/queue.c \
          src/relay.c src/settings.c \
          src/setup.c src/socks.c \
          src/message.c src/net.c src/reply.c src/report.c src/secret.c \
          src/session.c src/tls.c src/trace.c src/util.c
HDR     = src/*.h
UNIT    = address auth config encoder headers message oauth2 queue reply \
          report settings secret socks tls

all: carrier

# Regular build in build/, sanitizer build in build-asan/.
build/lib.a: $(LIB_SRC) $(HDR)
	@mkdir -p build
	@set -e; objs=; for s in $(LIB_SRC); do \
	  o=build/`basename $$s .c`.o; \
	  echo "CC $$s"; $(CC) $(ALL_CFLAGS) -c $$s -o $$o; objs="$$objs $$o"; \
	done; rm -f $@; ar rcs $@ $$objs

carrier: build/lib.a src/main.c $(HDR)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ src/main.c build/lib.a $(PKG_LIBS)

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all
ASAN_CFLAGS = $(WARN) $(WERROR) $(DEFS) $(PKG_CFLAGS) $(ASAN_FLAGS)
build-asan/lib.a: $(LIB_SRC) $(HDR)
	@mkdir -p build-asan
	@set -e; objs=; for s in $(LIB_SRC); do \
	  o=build-asan/`basename $$s .c`.o; \
	  echo "CC (asan) $$s"; $(CC) $(ASAN_CFLAGS) -c $$s -o $$o; \
	  objs="$$objs $$o"; \
	done; rm -f $@; ar rcs $@ $$objs

build-asan/carrier: build-asan/lib.a src/main.c $(HDR)
	$(CC) $(ASAN_CFLAGS) $(LDFLAGS) -o $@ src/main.c build-asan/lib.a \
	  $(PKG_LIBS)

unit: build/lib.a
	@mkdir -p build/unit
	@set -e; for t in $(UNIT); do \
	  $(CC) $(ALL_CFLAGS) -Isrc -o build/unit/test_$$t tests/unit/test_$$t.c \
	    build/lib.a $(PKG_LIBS); \
	done

unit-asan: build-asan/lib.a
	@mkdir -p build-asan/unit
	@set -e; for t in $(UNIT); do \
	  $(CC) $(ASAN_CFLAGS) -Isrc -o build-asan/unit/test_$$t \
	    tests/unit/test_$$t.c build-asan/lib.a $(PKG_LIBS); \
	done

deps:
	@sh .ci/deps

check: deps carrier unit build-asan/carrier unit-asan
	@sh tests/run-all

demo: deps carrier
	@sh tests/demo

fuzz: deps
	@sh tests/fuzz/run $${FUZZ_SECONDS:-60}

install: carrier
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	cp carrier $(DESTDIR)$(BINDIR)/carrier
	chmod 755 $(DESTDIR)$(BINDIR)/carrier
	cp man/carrier.1 $(DESTDIR)$(MANDIR)/man1/carrier.1
	cp man/carrier.conf.5 $(DESTDIR)$(MANDIR)/man5/carrier.conf.5
	cp completions/carrier.bash $(DESTDIR)$(BASHCOMPDIR)/carrier
	cp completions/_carrier $(DESTDIR)$(ZSHCOMPDIR)/_carrier
	cp completions/carrier.fish $(DESTDIR)$(FISHCOMPDIR)/carrier.fish

install-sendmail: install
	mkdir -p $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)
	ln -sf $(BINDIR)/carrier $(DESTDIR)$(SBINDIR)/sendmail
	ln -sf $(BINDIR)/carrier $(DESTDIR)$(LIBDIR)/sendmail
	ln -sf carrier $(DESTDIR)$(BASHCOMPDIR)/sendmail

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/carrier $(DESTDIR)$(MANDIR)/man1/carrier.1 \
	  $(DESTDIR)$(MANDIR)/man5/carrier.conf.5 \
	  $(DESTDIR)$(BASHCOMPDIR)/carrier $(DESTDIR)$(ZSHCOMPDIR)/_carrier \
	  $(DESTDIR)$(FISHCOMPDIR)/carrier.fish
	@for l in $(DESTDIR)$(BASHCOMPDIR)/sendmail; do \
	  if [ -L $$l ] && [ "`readlink $$l`" = carrier ]; then rm -f $$l; fi; \
	done
	@for l in $(DESTDIR)$(SBINDIR)/sendmail $(DESTDIR)$(LIBDIR)/sendmail; do \
	  if [ -L $$l ] && [ "`readlink $$l`" = "$(BINDIR)/carrier" ]; then \
	    rm -f $$l; fi; done

clean:
	rm -rf build build-asan carrier

.PHONY: all deps check demo fuzz install install-sendmail uninstall clean \
        unit unit-asan
