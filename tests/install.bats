#!/usr/bin/env bats
# make install / install-sendmail / uninstall under DESTDIR and PREFIX.

load lib/common

@test "make install puts the binary, the man pages and the completions under DESTDIR/PREFIX" {
	local d=$BATS_TEST_TMPDIR/root
	run make -C "$REPO" -s install DESTDIR="$d" PREFIX=/opt/c
	assert_success
	[[ -x $d/opt/c/bin/carrier ]]
	[[ -f $d/opt/c/share/man/man1/carrier.1 ]]
	[[ -f $d/opt/c/share/man/man5/carrier.conf.5 ]]
	[[ -f $d/opt/c/share/bash-completion/completions/carrier ]]
	[[ -f $d/opt/c/share/zsh/vendor-completions/_carrier ]]
	[[ -f $d/opt/c/share/fish/vendor_completions.d/carrier.fish ]]
	run "$d/opt/c/bin/carrier" --version
	assert_success
	assert_line --partial 'carrier '
}

@test "make install-sendmail links sbin/sendmail and lib/sendmail; uninstall removes only ours" {
	local d=$BATS_TEST_TMPDIR/root
	run make -C "$REPO" -s install-sendmail DESTDIR="$d" PREFIX=/opt/c
	assert_success
	assert_equal "$(readlink "$d/opt/c/sbin/sendmail")" /opt/c/bin/carrier
	assert_equal "$(readlink "$d/opt/c/lib/sendmail")" /opt/c/bin/carrier
	# A sendmail that is not ours survives uninstall.
	ln -sf /usr/sbin/postfix-sendmail "$d/opt/c/lib/sendmail"
	run make -C "$REPO" -s uninstall DESTDIR="$d" PREFIX=/opt/c
	assert_success
	[[ ! -e $d/opt/c/bin/carrier ]]
	[[ ! -L $d/opt/c/sbin/sendmail ]]
	[[ -L $d/opt/c/lib/sendmail ]]
	[[ ! -e $d/opt/c/share/man/man1/carrier.1 ]]
}
