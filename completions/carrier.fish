# fish completion for carrier(1).
# Installed by `make install` as
#   $(PREFIX)/share/fish/vendor_completions.d/carrier.fish
# It completes carrier's own command line: under the name sendmail only
# sendmail's flags are options (carrier(1), SENDMAIL COMPATIBILITY).

# The configuration file carrier would read: --config/-C on the command
# line, else the user's, else the system's.
function __carrier_config_file
    set -l tokens (commandline -opc)
    set -l file
    set -l i 2
    while test $i -le (count $tokens)
        set -l t $tokens[$i]
        switch $t
            case --config -C
                set -l j (math $i + 1)
                if test $j -le (count $tokens)
                    set file $tokens[$j]
                end
            case '--config=*'
                set file (string replace -- --config= '' $t)
            case '-C?*'
                set file (string sub -s 3 -- $t)
        end
        set i (math $i + 1)
    end
    if test -n "$file"
        string replace -r '^~/' "$HOME/" -- $file
        return
    end
    if string match -q '/*' -- "$XDG_CONFIG_HOME"
        set file $XDG_CONFIG_HOME/carrier/config
    else
        set file $HOME/.config/carrier/config
    end
    test -r $file; or set file /etc/carrier.conf
    echo $file
end

function __carrier_accounts
    set -l file (__carrier_config_file)
    test -r "$file"; or return
    string match -r -g '^\s*account\s+([^:]*)' <$file \
        | string trim | string trim -c '"' | string match -v ''
end

# The ids in the queue directories: --queue=DIR on the line, else the
# default and every `queue DIR` of the configuration file.
function __carrier_queue_ids
    set -l dirs
    for t in (commandline -opc)
        if string match -q -- '--queue=*' $t
            set dirs (string replace -- --queue= '' $t)
        end
    end
    if test -z "$dirs"
        if string match -q '/*' -- "$XDG_STATE_HOME"
            set dirs $XDG_STATE_HOME/carrier/queue
        else if test (id -u) -eq 0
            set dirs /var/spool/carrier
        else
            set dirs $HOME/.local/state/carrier/queue
        end
        set -l file (__carrier_config_file)
        if test -r "$file"
            set -a dirs (string match -r -g '^\s*queue\s+(.*\S)' <$file \
                | string trim -c '"')
        end
    end
    set -l ids
    for dir in $dirs
        set dir (string replace -r '^~/' "$HOME/" -- $dir)
        for f in $dir/*.env
            set -l id (string replace -r '\.env$' '' -- (basename $f))
            contains -- $id $ids; or set -a ids $id
        end
    end
    printf '%s\n' $ids
end

# The last element of a comma-separated --auth list.
function __carrier_mechanisms
    set -l tok (commandline -ct)
    # The elements already typed, with their final comma ("" for none).
    set -l prefix (string replace -r '^(?:--auth=)?((?:.*,)?).*$' '$1' -- "$tok")
    for m in on off SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN XOAUTH2 OAUTHBEARER EXTERNAL
        echo $prefix$m
    end
end

complete -c carrier -f

# Connection
complete -c carrier -l host -x -a '(__fish_print_hostnames)' -d 'Server name, address or /unix/socket'
complete -c carrier -l port -x -a '25 465 587 2003' -d 'TCP port'
complete -c carrier -l lmtp -d 'Speak LMTP'
complete -c carrier -l protocol -x -a 'smtp lmtp' -d 'Protocol (LMTP on a Unix socket)'
complete -c carrier -l helo -x -d 'Name for EHLO/LHLO'
complete -c carrier -l timeout -x -d 'Limit for every network wait (seconds)'
complete -c carrier -l source -x -d 'Local address to connect from'
complete -c carrier -l proxy -x -a 'socks5:// socks5h://' -d 'SOCKS5 proxy URL'
complete -c carrier -l proxy-host -x -a '(__fish_print_hostnames)' -d 'SOCKS5 proxy host (resolves names)'
complete -c carrier -l proxy-port -x -d 'SOCKS5 proxy port'
complete -c carrier -s 4 -d 'IPv4 only'
complete -c carrier -s 6 -d 'IPv6 only'

# TLS
complete -c carrier -l tls -f -a 'on off' -d 'TLS on (STARTTLS unless --tls-starttls=off)'
complete -c carrier -l tls-on-connect -d 'TLS from the first byte'
complete -c carrier -l tls-starttls -f -a 'on off' -d 'STARTTLS (on) or TLS from the first byte (off)'
complete -c carrier -l starttls -f -a 'required optional' -d 'STARTTLS (--starttls=required|optional)'
complete -c carrier -l tls-ca -r -F -d 'Trusted CA certificates'
complete -c carrier -l tls-cert -r -F -d 'Client certificate'
complete -c carrier -l tls-key -r -F -d 'Client private key'
complete -c carrier -l tls-fingerprint -x -d 'Pin the server certificate (SHA256:HEX)'
complete -c carrier -l tls-priority -x -d 'GnuTLS priority string'
complete -c carrier -l tls-no-verify -d 'Do not verify the server (insecure)'

# Authentication
complete -c carrier -l user -x -d 'Log in as this user'
complete -c carrier -l auth -x -a '(__carrier_mechanisms)' -d 'SASL mechanisms to try'
complete -c carrier -l no-initial-response -d 'Never send an initial response with AUTH'
complete -c carrier -l allow-plaintext-auth -d 'Allow credentials on an unencrypted connection'
complete -c carrier -l oauth2-login -d 'Sign in the account with OAuth2'
complete -c carrier -l oauth2-logout -d 'Remove the account\'s OAuth2 tokens'
complete -c carrier -l oauth2-provider -x -a 'google microsoft custom' -d 'OAuth2 provider preset'
complete -c carrier -l oauth2-client-id -x -d 'OAuth2 client id'
complete -c carrier -l oauth2-authorization-endpoint -x -d 'OAuth2 authorization endpoint'
complete -c carrier -l oauth2-device-endpoint -x -d 'OAuth2 device endpoint'
complete -c carrier -l oauth2-token-endpoint -x -d 'OAuth2 token endpoint'
complete -c carrier -l oauth2-scope -x -d 'OAuth2 scopes'
complete -c carrier -l oauth2-token-file -r -d 'OAuth2 token file'

# Envelope and message
complete -c carrier -s f -l from -x -d 'Envelope sender'
complete -c carrier -s r -x -d 'Envelope sender'
complete -c carrier -s t -l read-recipients -d 'Recipients from the headers'
complete -c carrier -l message-file -r -F -d 'Read the message from a file'
complete -c carrier -l read-envelope-from -d 'Envelope sender from the From header'
complete -c carrier -s P -l pretend -d 'Print the settings in effect, send nothing'
complete -c carrier -s S -l serverinfo -d 'Print what the server offers'
complete -c carrier -l rmqs -x -d 'Ask the server to start a queue (ETRN)'
complete -c carrier -l batch -d 'Send every message over one connection'
complete -c carrier -l maildir -x -a '(__fish_complete_directories)' -d 'Every message of a maildir (implies --batch)'
complete -c carrier -l mbox -r -F -d 'Every message of an mbox file (implies --batch)'
complete -c carrier -l mail-option -x -d 'Extra MAIL FROM parameter'
complete -c carrier -l rcpt-option -x -d 'Extra RCPT TO parameter'
complete -c carrier -l smtputf8 -d 'Ask for SMTPUTF8'
complete -c carrier -l require-tls -d 'REQUIRETLS: only over verified TLS'
complete -c carrier -l keep-bcc -d 'Do not remove Bcc and Resent-Bcc'

# Output
complete -c carrier -s v -l verbose -d 'Show the dialogue (twice: with time stamps)'
complete -c carrier -l debug -f -a '1 2' -d 'Show the dialogue (--debug=1|2)'
complete -c carrier -l progress -d 'Show progress while sending the data'
complete -c carrier -l log -r -F -d 'Append one line per message to a file'
complete -c carrier -l syslog -f -a 'mail user daemon local0 local1 local2 local3 local4 local5 local6 local7' -d 'Log to syslog (--syslog=FACILITY)'
complete -c carrier -l report -x -a json -d 'JSON report on standard output'

# Queue
complete -c carrier -l queue -f -a '(__fish_complete_directories (commandline -ct | string replace -- --queue= ""))' -d 'Queue on a temporary failure (--queue=DIR)'
complete -c carrier -l queue-only -d 'Queue without trying to send'
complete -c carrier -l flush -f -a due -d 'Deliver what is queued (--flush=due: only what is due)'
complete -c carrier -l list-queue -d 'List the queue'
complete -c carrier -l queue-remove -x -a '(__carrier_queue_ids)' -d 'Remove a message from the queue'
complete -c carrier -l queue-max-age -x -d 'Days a queued message is retried (5)'

# Configuration
complete -c carrier -s a -l account -x -a '(__carrier_accounts)' -d 'Account of the configuration file'
complete -c carrier -s C -l config -l file -r -F -d 'Configuration file'
complete -c carrier -l sendmail -d 'Behave as sendmail'
complete -c carrier -l help -d 'Print a summary of the options'
complete -c carrier -l version -d 'Print the versions'

# Query modes
complete -c carrier -l features -d "Print the server's EHLO capabilities"
complete -c carrier -l verify -x -d 'Send VRFY ADDRESS'
complete -c carrier -l expn -x -d 'Send EXPN ADDRESS'
complete -c carrier -l noop -d 'Send NOOP'
complete -c carrier -l server-help -f -d 'Send HELP (--server-help=TOPIC)'
complete -c carrier -l command -x -d 'Send a command line'

# sendmail flags
complete -c carrier -s i -d 'A lone dot does not end the input'
complete -c carrier -o oi -d 'A lone dot does not end the input'
complete -c carrier -s F -x -d 'Full name for an added From field'
complete -c carrier -s N -x -a 'never success failure delay success,failure success,failure,delay failure,delay' -d 'DSN conditions'
complete -c carrier -s R -x -a 'full hdrs' -d 'DSN return'
complete -c carrier -s V -x -d 'DSN envelope id'
complete -c carrier -s B -x -a '7BIT 8BITMIME' -d 'Body type'
complete -c carrier -o bm -d 'Deliver a message (the default)'
complete -c carrier -o bp -d 'List the queue'
complete -c carrier -o bi -d 'Rebuild aliases (does nothing)'
complete -c carrier -s q -d 'Deliver what is queued'
complete -c carrier -o odq -d 'Queue only'
complete -c carrier -o bs -d 'SMTP session on standard input and output'
complete -c carrier -s U -d 'Initial submission (ignored)'
complete -c carrier -s L -x -d 'Syslog tag (ignored)'
complete -c carrier -s h -x -d 'Hop count (ignored)'
