#!/usr/bin/env bats
# The user-facing surface agrees with the program: the man pages are clean
# mdoc, document every option --help prints and every configuration key
# src/settings.c accepts; the completions know every option; --help fits a
# terminal; --version names carrier's and GnuTLS's versions.

load lib/common

MAN1=$REPO/man/carrier.1
MAN5=$REPO/man/carrier.conf.5

# The long options that --help prints, one a line, without duplicates.
help_options() {
	"$CARRIER" --help | grep -oE -- '--[a-z][a-z0-9-]+' | LC_ALL=C sort -u
}

# has_option FILE OPTION: OPTION appears in FILE as a whole option name,
# not only as the prefix of a longer one (--tls in --tls-ca does not count).
has_option() {
	grep -qE -- "$2([^a-z0-9-]|\$)" "$1"
}

# The keys carrier accepts in a configuration file: the table of settings.
config_c_keys() {
	# The rows of the table of settings: ROW("key", ...) and
	# { "key", ... }; FLAG rows are options only.
	sed -n '/^const struct setting settings\[\] = {/,/^};/p' \
		"$REPO/src/settings.c" |
		grep -oE '^[[:space:]]*(ROW\(|\{ )"[a-z0-9_]+", ' |
		sed -E 's/^[[:space:]]*(ROW\(|\{ )"([a-z0-9_]+)".*/\2/' |
		LC_ALL=C sort -u
}

# The keys carrier.conf(5) documents: its ".It Cm KEY" entries.
man5_keys() {
	sed -nE 's/^\.It Cm ([a-z0-9_]+).*/\1/p' "$MAN5" | LC_ALL=C sort -u
}

@test "mandoc -Tlint -W warning man/* prints nothing" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (apt-get install mandoc)"
	run mandoc -Tlint -W warning "$REPO"/man/*
	assert_success
	assert_output ''
}

@test "--help prints a reasonable list of long options" {
	run help_options
	assert_success
	# A broken extraction would make every test below pass vacuously.
	[ "${#lines[@]}" -ge 40 ]
	assert_line --host
	assert_line --starttls
	assert_line --report
}

@test "every long option of --help is in man/carrier.1" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (apt-get install mandoc)"
	local rendered=$BATS_TEST_TMPDIR/carrier.1.txt missing=() opt
	# The rendered page: the source writes options as ".Fl \-host".
	mandoc -Tascii "$MAN1" | col -b >"$rendered"
	while read -r opt; do
		has_option "$rendered" "$opt" || missing+=("$opt")
	done < <(help_options)
	assert_equal "${missing[*]}" ''
}

@test "every long option of --help is in each completion file" {
	local file opt missing=()
	for file in carrier.bash _carrier carrier.fish; do
		[ -f "$REPO/completions/$file" ] || missing+=("$file:(no file)")
		while read -r opt; do
			if [[ $file == carrier.fish ]]; then
				# fish writes "-l host" for --host.
				grep -qE -- "-l ${opt#--}([^a-z0-9-]|\$)" \
					"$REPO/completions/$file" || missing+=("$file:$opt")
			else
				has_option "$REPO/completions/$file" "$opt" ||
					missing+=("$file:$opt")
			fi
		done < <(help_options)
	done
	assert_equal "${missing[*]}" ''
}

@test "src/settings.c's key table can be read" {
	run config_c_keys
	assert_success
	[ "${#lines[@]}" -ge 40 ]
	assert_line host
	assert_line passwordeval
	assert_line tls_starttls
}

@test "every key src/settings.c accepts is documented in carrier.conf(5)" {
	local documented missing=() key
	documented=$(man5_keys)
	while read -r key; do
		grep -qxF -- "$key" <<<"$documented" || missing+=("$key")
	done < <(config_c_keys)
	assert_equal "${missing[*]}" ''
}

@test "carrier.conf(5) documents no key that src/settings.c does not accept" {
	local accepted extra=() key
	accepted=$(config_c_keys)
	while read -r key; do
		grep -qxF -- "$key" <<<"$accepted" || extra+=("$key")
	done < <(man5_keys)
	assert_equal "${extra[*]}" ''
}

@test "carrier.conf(5) documents the commands defaults, account and eval" {
	run grep -cE '^\.It Ic (defaults|account|eval)( |$)' "$MAN5"
	assert_output 3
}

@test "--help fits in 80 columns" {
	run "$CARRIER" --help
	assert_success
	local line long=()
	for line in "${lines[@]}"; do
		((${#line} < 80)) || long+=("$line")
	done
	assert_equal "${long[*]}" ''
	# and says where the full story is
	assert_output --partial 'carrier(1)'
}

@test "--help prints nothing on standard error" {
	run --separate-stderr "$CARRIER" --help
	assert_success
	assert_equal "$stderr" ''
}

@test "--version prints carrier's version and the GnuTLS version" {
	local version
	version=$(sed -nE 's/^VERSION[[:space:]]*=[[:space:]]*([^[:space:]]+).*/\1/p' \
		"$REPO/Makefile")
	[ -n "$version" ]
	run "$CARRIER" --version
	assert_success
	assert_line --index 0 "carrier $version"
	assert_line --regexp '^GnuTLS [0-9]+\.[0-9]+\.[0-9]+'
}

@test "the man pages name the same exit statuses as src/report.h" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (apt-get install mandoc)"
	local codes missing=() c
	codes=$(grep -oE '= [0-9]+,' "$REPO/src/report.h" | grep -oE '[0-9]+')
	mandoc -Tascii "$MAN1" | col -b |
		sed -n '/^EXIT STATUS/,/^[A-Z]/p' >"$BATS_TEST_TMPDIR/exit.txt"
	for c in $codes; do
		grep -qE "^     $c[[:space:]]" "$BATS_TEST_TMPDIR/exit.txt" ||
			missing+=("$c")
	done
	assert_equal "${missing[*]}" ''
}

@test "THREATS-COVERAGE.md names only bats tests that exist, verbatim" {
	run python3 - "$BATS_TEST_DIRNAME" <<'PY'
import glob, os, re, sys
root = os.path.dirname(sys.argv[1])
names = {}
for f in glob.glob(os.path.join(sys.argv[1], '*.bats')):
    text = open(f, encoding='utf-8').read()
    # bats shows a test's name with its backslash escapes undone.
    names['tests/' + os.path.basename(f)] = {
        n.replace('\\\\', '\\')
        for n in re.findall(r'^@test "(.*)" \{', text, re.M)}
for line in open(os.path.join(sys.argv[1], 'THREATS-COVERAGE.md'), encoding='utf-8'):
    m = re.match(r'^\w+\s+(tests/[\w.-]+\.bats): (.*)$', line.rstrip('\n'))
    if m and m.group(2) not in names.get(m.group(1), ()):
        print('missing:', m.group(1), m.group(2))
PY
	assert_success
	assert_output ''
}
