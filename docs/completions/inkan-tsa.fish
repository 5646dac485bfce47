# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_inkan_tsa_global_optspecs
    string join \n h/help V/version
end

function __fish_inkan_tsa_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_inkan_tsa_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_inkan_tsa_using_subcommand
    set -l cmd (__fish_inkan_tsa_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -s h -l help -d 'this text'
complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -s V -l version -d 'the version'
complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -f -a "serve" -d 'run the time-stamp authority (flags override the configuration file)'
complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -f -a "check" -d 'run every start-up check of serve, without the records store or the port'
complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -f -a "records" -d 'print matching issuance records as JSON lines, or check their hash chain'
complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -f -a "events" -d 'print the service events between two times as JSON lines'
complete -c inkan-tsa -n "__fish_inkan_tsa_needs_command" -f -a "backup" -d 'copy the records store while the TSA runs, to a new file'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l config -d 'TOML configuration (see inkan-tsa.example.toml); flags override it' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l listen -d 'listen address (default 127.0.0.1:3161)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l key -d 'PKCS#8 PEM file or pkcs11: URI (PIN via pin-source, never a flag)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l cert-chain -d 'TSA certificate first, then its issuers' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l policy -d 'default TSA policy' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l accuracy-ms -d 'declared accuracy, 1..=1000 (default 1000)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l data-dir -d 'records store and dev PKI (default ./inkan-tsa-data)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l store -d 'shared records store postgresql://USER@HOST[:PORT]/DB (password from PGPASSWORD or ?password-source=env:NAME|FILE; sslmode, sslrootcert)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l ntp -d 'SNTP server to check the clock against (repeatable); without any, the host clock is trusted; `--ntp none` means no servers (it overrides the config file\'s ntp_servers)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l ntp-poll-ms -d 'SNTP poll interval (default 16000)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -l dev -d 'development TSA: makes a dev CA, TSA certificate and P-256 key once under the data dir (NOT FOR PRODUCTION), policy 1.2.3.4.1'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand serve" -s h -l help -d 'this text'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l config -d 'TOML configuration (see inkan-tsa.example.toml); flags override it' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l listen -d 'listen address (default 127.0.0.1:3161)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l key -d 'PKCS#8 PEM file or pkcs11: URI (PIN via pin-source, never a flag)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l cert-chain -d 'TSA certificate first, then its issuers' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l policy -d 'default TSA policy' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l accuracy-ms -d 'declared accuracy, 1..=1000 (default 1000)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l data-dir -d 'records store and dev PKI (default ./inkan-tsa-data)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l store -d 'shared records store postgresql://USER@HOST[:PORT]/DB (password from PGPASSWORD or ?password-source=env:NAME|FILE; sslmode, sslrootcert)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l ntp -d 'SNTP server to check the clock against (repeatable); without any, the host clock is trusted; `--ntp none` means no servers (it overrides the config file\'s ntp_servers)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l ntp-poll-ms -d 'SNTP poll interval (default 16000)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -l dev -d 'development TSA: makes a dev CA, TSA certificate and P-256 key once under the data dir (NOT FOR PRODUCTION), policy 1.2.3.4.1'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand check" -s h -l help -d 'this text'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l config -d 'TOML configuration (its data_dir and store)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l data-dir -d 'the records store of a TSA (default ./inkan-tsa-data)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l store -d 'a shared records store postgresql://USER@HOST[:PORT]/DB' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l serial -d 'the record of this serial number (hex)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l imprint -d 'the records of this message imprint (hex)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l from -d 'the records issued from this time (RFC 3339, or a UTC date: its first instant)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l to -d 'the records issued up to this time (RFC 3339, or a UTC date: its last instant)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -l verify-chain -d 'check the hash chain over every record: exit 0 when intact, 1 naming the first record changed, removed or inserted'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand records" -s h -l help -d 'this text'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand events" -l config -d 'TOML configuration (its data_dir and store)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand events" -l data-dir -d 'the records store of a TSA (default ./inkan-tsa-data)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand events" -l store -d 'a shared records store postgresql://USER@HOST[:PORT]/DB' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand events" -l from -d 'the events from this time (RFC 3339, or a UTC date: its first instant)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand events" -l to -d 'the events up to this time (RFC 3339, or a UTC date: its last instant)' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand events" -s h -l help -d 'this text'
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand backup" -l config -d 'TOML configuration (its data_dir and store)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand backup" -l data-dir -d 'the records store of a TSA (default ./inkan-tsa-data)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand backup" -l store -d 'a shared records store postgresql://USER@HOST[:PORT]/DB' -r
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand backup" -l out -d 'the copy: a new file (it must not exist)' -r -F
complete -c inkan-tsa -n "__fish_inkan_tsa_using_subcommand backup" -s h -l help -d 'this text'
