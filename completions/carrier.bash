# bash completion for carrier(1), also when it is installed as sendmail.
#
# Installed by `make install` as
#   $(PREFIX)/share/bash-completion/completions/carrier
# Self-contained: it needs nothing from the bash-completion package.

# The configuration file carrier would read for this command line: the
# value of --config/-C given earlier on the line, else the user's file,
# else the system's (as src/config.c looks for them).
_carrier_config_file() {
	local i w file=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--config | -C)
			if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
				file=${COMP_WORDS[i + 2]-}
			else
				file=${COMP_WORDS[i + 1]-}
			fi
			;;
		--config=*) file=${w#--config=} ;;
		-C?*) file=${w#-C} ;;
		esac
	done
	if [[ -n $file ]]; then
		[[ $file == "~"/* ]] && file=$HOME/${file#"~"/}
		printf '%s\n' "$file"
		return
	fi
	if [[ ${XDG_CONFIG_HOME-} == /* ]]; then
		file=$XDG_CONFIG_HOME/carrier/config
	else
		file=$HOME/.config/carrier/config
	fi
	[[ -r $file ]] || file=/etc/carrier.conf
	printf '%s\n' "$file"
}

# The account names defined in the configuration file, one a line.
_carrier_accounts() {
	local file line name
	file=$(_carrier_config_file)
	[[ -r $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		[[ $line =~ ^[[:blank:]]*account[[:blank:]]+([^:]*) ]] || continue
		name=${BASH_REMATCH[1]}
		name=${name#"${name%%[![:blank:]]*}"}
		name=${name%"${name##*[![:blank:]]}"}
		[[ $name == \"*\" ]] && name=${name:1:${#name}-2}
		[[ -n $name ]] && printf '%s\n' "$name"
	done <"$file"
}

# The queue directories to look in, one a line: --queue=DIR given earlier
# on the line; else the default of src/queue.c and every `queue DIR` of
# the configuration file (the key that turns queueing on for an account).
_carrier_queue_dirs() {
	local i w dir= file line
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == --queue=* ]]; then
			dir=${w#--queue=}
		elif [[ $w == --queue && ${COMP_WORDS[i + 1]-} == = ]]; then
			dir=${COMP_WORDS[i + 2]-}
		fi
	done
	if [[ -n $dir ]]; then
		printf '%s\n' "$dir"
		return
	fi
	if [[ ${XDG_STATE_HOME-} == /* ]]; then
		printf '%s\n' "$XDG_STATE_HOME/carrier/queue"
	elif ((EUID == 0)); then
		printf '%s\n' /var/spool/carrier
	else
		printf '%s\n' "$HOME/.local/state/carrier/queue"
	fi
	file=$(_carrier_config_file)
	[[ -r $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		[[ $line =~ ^[[:blank:]]*queue[[:blank:]]+(.*[^[:blank:]]) ]] || continue
		dir=${BASH_REMATCH[1]}
		[[ $dir == \"*\" ]] && dir=${dir:1:${#dir}-2}
		[[ -n $dir ]] && printf '%s\n' "$dir"
	done <"$file"
}

# The ids in those queue directories, one a line, each once.
_carrier_queue_ids() {
	local dir f
	local -A seen=()
	while IFS= read -r dir; do
		[[ $dir == "~"/* ]] && dir=$HOME/${dir#"~"/}
		for f in "$dir"/*.env; do
			[[ -e $f ]] || continue
			f=${f##*/}
			f=${f%.env}
			[[ -n ${seen[$f]-} ]] && continue
			seen[$f]=1
			printf '%s\n' "$f"
		done
	done < <(_carrier_queue_dirs)
}

# COMPREPLY: the words of $2 (one per line) that start with $1,
# ignoring case, each prefixed with $3.
_carrier_match() {
	local cur=$1 prefix=${3-} w
	while IFS= read -r w; do
		[[ -z $w ]] && continue
		[[ ${w,,} == "${cur,,}"* ]] && COMPREPLY+=("$prefix$w")
	done <<<"$2"
}

_carrier() {
	local cur prev opt val prefix=
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# Find the option whose value is being completed.  Bash splits
	# "--opt=val" into "--opt" "=" "val" when '=' is in COMP_WORDBREAKS
	# (the default); otherwise the word is "--opt=val" whole and the
	# replies must carry the "--opt=" prefix.
	opt= val=$cur
	if [[ $cur == = && $prev == --* ]]; then
		opt=$prev val=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)) &&
		[[ ${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
		opt=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*} val=${cur#*=} prefix=$opt=
	else
		case $prev in
		--host | --port | --helo | --timeout | --source | --proxy | \
			--proxy-host | --proxy-port | --tls-ca | --tls-cert | \
			--tls-key | --tls-fingerprint | --tls-priority | \
			--user | --auth | --from | --message-file | --file | \
			--mail-option | --tls-trust-file | --tls-cert-file | \
			--tls-key-file | --logfile | --aliases | --socket | \
			--rcpt-option | --log | --report | --account | --config | \
			--verify | --expn | --command | --maildir | --mbox | \
			--queue-remove | --queue-max-age | --oauth2-provider | \
			--oauth2-client-id | --oauth2-authorization-endpoint | \
			--oauth2-device-endpoint | --oauth2-token-endpoint | \
			--oauth2-scope | --oauth2-token-file | \
			-f | -r | -F | -N | -R | -V | -B | -C | -L | -h | -o | -b | \
			-a | -X)
			opt=$prev
			;;
		esac
	fi

	if [[ -n $opt ]]; then
		case $opt in
		--starttls)
			_carrier_match "$val" $'required\noptional' "$prefix"
			;;
		--auth)
			# A comma-separated list: complete its last element.
			local done= last=$val
			if [[ $val == *,* ]]; then
				done=${val%,*}, last=${val##*,}
			fi
			_carrier_match "$last" $'on\noff\nSCRAM-SHA-256-PLUS\nSCRAM-SHA-1-PLUS\nSCRAM-SHA-256\nSCRAM-SHA-1\nCRAM-MD5\nPLAIN\nLOGIN\nXOAUTH2\nOAUTHBEARER\nEXTERNAL' \
				"$prefix$done"
			;;
		--debug)
			_carrier_match "$val" $'1\n2' "$prefix"
			;;
		--report)
			_carrier_match "$val" json "$prefix"
			;;
		--syslog)
			_carrier_match "$val" $'mail\nuser\ndaemon\nlocal0\nlocal1\nlocal2\nlocal3\nlocal4\nlocal5\nlocal6\nlocal7' "$prefix"
			;;
		--port)
			_carrier_match "$val" $'25\n465\n587\n2003' "$prefix"
			;;
		--account | -a)
			_carrier_match "$val" "$(_carrier_accounts)" "$prefix"
			;;
		--message-file | --file | --config | -C | --tls-ca | --tls-cert | \
			--tls-key | --log | --tls-trust-file | --tls-cert-file | \
			--tls-key-file | --logfile | -X | --aliases | --socket)
			compopt -o filenames 2>/dev/null
			local f
			while IFS= read -r f; do
				[[ -n $f ]] && COMPREPLY+=("$prefix$f")
			done < <(compgen -f -- "$val")
			;;
		--maildir | --queue)
			compopt -o filenames 2>/dev/null
			local d
			while IFS= read -r d; do
				[[ -n $d ]] && COMPREPLY+=("$prefix$d")
			done < <(compgen -d -- "$val")
			;;
		--mbox)
			compopt -o filenames 2>/dev/null
			local f
			while IFS= read -r f; do
				[[ -n $f ]] && COMPREPLY+=("$prefix$f")
			done < <(compgen -f -- "$val")
			;;
		--queue-remove)
			_carrier_match "$val" "$(_carrier_queue_ids)" "$prefix"
			;;
		--queue-max-age)
			_carrier_match "$val" $'1\n2\n5\n7\n14\n30' "$prefix"
			;;
		--host)
			if [[ $val == /* ]]; then
				compopt -o filenames 2>/dev/null
				local f
				while IFS= read -r f; do
					[[ -n $f ]] && COMPREPLY+=("$prefix$f")
				done < <(compgen -f -- "$val")
			else
				local h
				while IFS= read -r h; do
					[[ -n $h ]] && COMPREPLY+=("$prefix$h")
				done < <(compgen -A hostname -- "$val")
			fi
			;;
		-N)
			_carrier_match "$val" $'never\nsuccess\nfailure\ndelay\nsuccess,failure\nsuccess,failure,delay\nfailure,delay' "$prefix"
			;;
		-R)
			_carrier_match "$val" $'full\nhdrs' "$prefix"
			;;
		-B)
			_carrier_match "$val" $'7BIT\n8BITMIME' "$prefix"
			;;
		esac
		# Every other value (--user, --from, --timeout ...) is free text.
		return 0
	fi

	case $cur in
	--*)
		# Under the name sendmail only sendmail's flags are options
		# (carrier(1), SENDMAIL COMPATIBILITY).
		case ${COMP_WORDS[0]##*/} in
		sendmail | mailq | newaliases) return 0 ;;
		esac
		local opts='--host --port --lmtp --helo --timeout --source --proxy --proxy-host --proxy-port -4 -6
--tls --tls= --tls-on-connect --tls-starttls= --starttls --starttls= --tls-ca --tls-cert --tls-key --tls-fingerprint
--tls-priority --tls-no-verify
--user --auth --no-initial-response --allow-plaintext-auth
--oauth2-login --oauth2-logout --oauth2-provider --oauth2-client-id
--oauth2-authorization-endpoint --oauth2-device-endpoint
--oauth2-token-endpoint --oauth2-scope --oauth2-token-file
--socket --protocol= --domain --source-ip --tls-trust-file --tls-cert-file
--tls-key-file --tls-priorities --tls-certcheck= --tls-host-override
--passwordeval --auto-from= --maildomain --dsn-notify --dsn-return
--set-from-header= --set-date-header= --set-msgid-header=
--remove-bcc-headers= --undisclosed-recipients= --logfile
--logfile-time-format --aliases --read-envelope-from --pretend --serverinfo
--rmqs
--from --read-recipients --message-file --batch --maildir --mbox
--mail-option --rcpt-option --smtputf8 --require-tls --keep-bcc
--verbose --debug --debug= --progress --log --syslog --syslog= --report=
--queue --queue= --queue-only --flush --flush=due --list-queue --queue-remove
--queue-max-age
--account --config --file --sendmail --help --version
--features --verify --expn --noop --server-help --server-help= --command'
		local o
		for o in $opts; do
			[[ $o == "$cur"* && $o == --* ]] && COMPREPLY+=("$o")
		done
		# "--opt=" waits for its value: no space after it.
		if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		;;
	-*)
		local o
		for o in -4 -6 -t -i -oi -odq -f -r -F -N -R -V -B -v -C -bm -bs -bp \
			-bi -q -U -L -h; do
			[[ $o == "$cur"* ]] && COMPREPLY+=("$o")
		done
		;;
	esac
	return 0
}

complete -F _carrier carrier sendmail
