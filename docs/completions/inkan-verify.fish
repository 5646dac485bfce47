# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_inkan_verify_global_optspecs
    string join \n data= data-dir= trust= crl= ocsp= at= revocation= format= lang= policy= h/help V/version
end

function __fish_inkan_verify_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_inkan_verify_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_inkan_verify_using_subcommand
    set -l cmd (__fish_inkan_verify_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l data -d 'the signed data (detached signatures, time-stamp tokens); one SIGNATURE_FILE only' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l data-dir -d 'where the data of detached signatures and time-stamps is (NAME for NAME.p7s / NAME.tsr)' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l trust -d 'trust anchors; repeatable' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l crl -d 'CRL (DER or PEM); repeatable' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l ocsp -d 'OCSP response (DER); repeatable' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l at -d 'validation time (RFC 3339), default now' -r
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l revocation -d 'required (default) or optional' -r -f -a "required\t'every certificate on a path needs revocation information at hand'
optional\t'a certificate without any is not held against the signature (the report says so)'"
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l format -d 'text (default) or json (fields: verifier/README.md)' -r -f -a "text\t'the report for people'
json\t'one JSON object (per file)'"
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l lang -d 'ja or en (default: from the locale)' -r -f -a "ja\t'日本語'
en\t'English'"
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -l policy -d 'the signer\'s certificate must be issued under this certificate policy (RFC 5280 path validation with this initial policy set and an explicit policy required); repeatable: any one of them will do' -r
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -s h -l help -d 'this text'
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -s V -l version -d 'the version'
complete -c inkan-verify -n "__fish_inkan_verify_needs_command" -a "ui" -d 'the verifier as a page in your browser, served on this computer only'
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -l listen -d 'a loopback address and port (default 127.0.0.1:0, a free port); any other address is refused' -r
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -l trust -d 'trust anchors for every verification; repeatable (more can be added on the page for one verification)' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -l crl -d 'CRL (DER or PEM) for every verification; repeatable' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -l ocsp -d 'OCSP response (DER) for every verification; repeatable' -r -F
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -l revocation -d 'required (default) or optional, as for inkan-verify' -r -f -a "required\t'every certificate on a path needs revocation information at hand'
optional\t'a certificate without any is not held against the signature (the report says so)'"
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -l open -d 'start the desktop\'s browser on the page (xdg-open)'
complete -c inkan-verify -n "__fish_inkan_verify_using_subcommand ui" -s h -l help -d 'this text'
