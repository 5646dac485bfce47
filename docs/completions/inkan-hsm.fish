# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_inkan_hsm_global_optspecs
    string join \n h/help V/version
end

function __fish_inkan_hsm_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_inkan_hsm_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_inkan_hsm_using_subcommand
    set -l cmd (__fish_inkan_hsm_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c inkan-hsm -n "__fish_inkan_hsm_needs_command" -s h -l help -d 'this text'
complete -c inkan-hsm -n "__fish_inkan_hsm_needs_command" -s V -l version -d 'the version'
complete -c inkan-hsm -n "__fish_inkan_hsm_needs_command" -f -a "keygen" -d 'make a key pair on a PKCS#11 token (sensitive, non-extractable private key)'
complete -c inkan-hsm -n "__fish_inkan_hsm_needs_command" -f -a "csr" -d 'a PKCS#10 certificate request signed by the key (PEM)'
complete -c inkan-hsm -n "__fish_inkan_hsm_needs_command" -f -a "list" -d 'every slot and token with its objects'
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand keygen" -l key -d 'where: a pkcs11: URI with token=, object= (the label) and module-path=' -r
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand keygen" -l algorithm -d 'the key\'s algorithm (see ALG below)' -r -f -a "rsa-3072\t''
rsa-4096\t''
rsa-3072-pss\t''
rsa-4096-pss\t''
p256\t''
p384\t''
p521\t''"
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand keygen" -s h -l help -d 'this text'
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand csr" -l key -d 'PKCS#8 PEM file or pkcs11: URI (PIN via pin-source, never a flag)' -r
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand csr" -l subject -d 'the subject: /C=JP/O=Example/CN=TSA 1  or  CN=TSA 1,O=Example,C=JP' -r
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand csr" -l eku -d 'request the extended key usage id-kp-timeStamping (critical), for a TSA' -r -f -a "time-stamping\t''"
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand csr" -l out -d 'write the request here (default: standard output)' -r -F
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand csr" -s h -l help -d 'this text'
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand list" -l module -d 'the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)' -r -F
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand list" -l pin-source -d 'log into each initialised token and list its private keys too (without it, only public objects)' -r
complete -c inkan-hsm -n "__fish_inkan_hsm_using_subcommand list" -s h -l help -d 'this text'
