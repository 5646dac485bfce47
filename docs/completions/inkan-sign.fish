# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_inkan_sign_global_optspecs
    string join \n key= cert-chain= level= tsa= attached out= out-dir= force skip-existing report= progress-every= crl= ocsp= no-fetch commitment-type= field= in-place cades seal-image= page= rect= tsa-ca= tsa-user= tsa-password-env= tsa-client-cert= tsa-client-key= tsa-password= proxy= tsa-timeout= h/help V/version
end

function __fish_inkan_sign_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_inkan_sign_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_inkan_sign_using_subcommand
    set -l cmd (__fish_inkan_sign_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l key -d 'PKCS#8 PEM file, or pkcs11: URI (RFC 7512; PIN via pin-source/pin-value)' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l cert-chain -d 'signer certificate and its chain' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l level -d 'B-B (default), B-T, B-LT or B-LTA (any case: b-lt works)' -r -f -a "B-B\t''
B-T\t''
B-LT\t''
B-LTA\t''"
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa -d 'RFC 3161 time-stamp authority (http:// or https://), needed from B-T up' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l out -d 'output file (one input only); default FILE.p7s beside each input' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l out-dir -d 'write FILE.p7s into DIR (made if it does not exist)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l report -d 'write one JSON line per input (input, output, status signed|skipped|failed, level, error) and a summary line with the counts (signed, skipped, failed)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l progress-every -d '(inkan extension) when standard error is not a terminal (a job log), a progress line this often: done/total, signed, skipped, failed, files/s (default 5; 0: none). On a terminal: a progress bar' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l crl -d 'CRL (DER or PEM) for B-LT; repeatable' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l ocsp -d 'OCSP response (DER) for B-LT; repeatable' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l commitment-type -d '(inkan extension) what the seal commits to, as a signed commitment-type-indication (EN 319 122-1): origin (the usual one for an e-seal: this organisation issued it), receipt, delivery, sender, approval or creation; none by default' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l field -d 'the empty signature field to sign, or the name of the new one (default: a new invisible field Signature1, Signature2, ...)' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l seal-image -d '(inkan extension) a visible seal: the organisation\'s seal image (角印) drawn in the new signature field on the page, its aspect ratio kept; without it the signature is invisible. PNG, 8 bits per sample (grey, RGB, palette, with or without alpha; transparency is kept), not interlaced, at most 8192x8192 pixels and 16 MiB. With --field NAME of an empty signature field the PDF has (a form\'s seal box), the seal fills that field\'s box; otherwise give --rect (and --page)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l page -d '(with --seal-image) the page the seal goes on, from 1 (default 1)' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l rect -d '(with --seal-image) where: lower-left and upper-right corners in points (1/72 inch) from the page\'s lower-left corner, within the page; e.g. --rect 400,650,520,770 for a 120-point seal near the top right of an A4 page' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-ca -d 'trust only the CA certificates in PEM for the TSA\'s TLS certificate (default: the system trust store). TLS 1.2/1.3; the certificate and the host name are always checked' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-user -d 'HTTP Basic user name; needs --tsa-password-env' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-password-env -d 'read the Basic password from the environment variable VAR (never given on the command line, never printed). Basic credentials go over https:// only, or over http:// to a loopback address' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-client-cert -d 'TLS client certificate (leaf first, then its chain); https:// only' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-client-key -d 'its private key, PKCS#8 (-----BEGIN PRIVATE KEY-----)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-password -d 'Refused, without echoing what follows (it may be a password): see --tsa-password-env' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l proxy -d '(inkan extension) the HTTP proxy for every request (TSA, OCSP, CRL): http://[USER:PASSWORD@]HOST:PORT (no https:// to the proxy, no SOCKS); https:// targets through a CONNECT tunnel, TLS end to end. Overrides the environment; none: no proxy. Without it: https_proxy or HTTPS_PROXY for https:// targets, http_proxy for http:// (HTTP_PROXY too, except in CGI, when REQUEST_METHOD is set). no_proxy/NO_PROXY (comma-separated: host and its subdomains, .domain, IP address, CIDR network, *) are reached directly, and so is loopback (localhost, 127.0.0.0/8, ::1), always. A password in --proxy shows in the process list: prefer the variables' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l tsa-timeout -d 'bound on each exchange with the TSA, connection included (default 30); a failed or timed-out exchange is tried once more after a short pause, then the batch stops with one message' -r
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l attached -d 'encapsulate the content (default: detached)'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l force -d 'replace outputs that exist (atomically)'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l skip-existing -d 'leave outputs that exist, count their inputs as skipped (no new signature, no new time-stamp): re-run a batch to retry its failures. Without either, an input whose output exists fails and the output is left as it is. Before anything is signed, a batch in which two inputs would write the same output is refused, naming them; a file named twice is signed once. A signature or time-stamp file (.p7s, .p7m, .tsr) is signed only when named on its own (the only input); in a batch it is skipped with a notice'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l no-fetch -d '(inkan extension) never use the network for B-LT: only --crl/--ocsp files; a missing CRL/OCSP is an error instead of asking the certificate\'s OCSP responder (authorityInfoAccess) or fetching its CRL distribution point'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l in-place -d 'replace the input PDF atomically'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -l cades -d 'make a detached FILE.p7s of a PDF instead of signing inside it'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -s h -l help -d 'this text'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -s V -l version -d 'the version'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -a "extend" -d 'raise a signature to B-T, B-LT or B-LTA (the signed attributes are kept byte for byte)'
complete -c inkan-sign -n "__fish_inkan_sign_needs_command" -a "timestamp" -d 'a PDF gets a document time-stamp (NAME-timestamped.pdf); any other file gets FILE.tsr, the TSA\'s TimeStampResp; no key needed'
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l level -d 'B-T, B-LT or B-LTA (any case)' -r -f -a "B-B\t''
B-T\t''
B-LT\t''
B-LTA\t''"
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa -d 'RFC 3161 time-stamp authority (http:// or https://)' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l crl -d 'CRL (DER or PEM) for B-LT; repeatable' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l ocsp -d 'OCSP response (DER) for B-LT; repeatable' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l cert-chain -d '(an inkan extension) certificates the signature lacks (e.g. the signer\'s chain of another signer\'s CAdES), used to build paths for B-LT and embedded in the result' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l data -d 'the detached content, needed for B-LTA' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l out -d 'write the result here instead of replacing SIGNATURE_FILE' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-ca -d 'trust only the CA certificates in PEM for the TSA\'s TLS certificate (default: the system trust store). TLS 1.2/1.3; the certificate and the host name are always checked' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-user -d 'HTTP Basic user name; needs --tsa-password-env' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-password-env -d 'read the Basic password from the environment variable VAR (never given on the command line, never printed). Basic credentials go over https:// only, or over http:// to a loopback address' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-client-cert -d 'TLS client certificate (leaf first, then its chain); https:// only' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-client-key -d 'its private key, PKCS#8 (-----BEGIN PRIVATE KEY-----)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-password -d 'Refused, without echoing what follows (it may be a password): see --tsa-password-env' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l proxy -d '(inkan extension) the HTTP proxy for every request (TSA, OCSP, CRL): http://[USER:PASSWORD@]HOST:PORT (no https:// to the proxy, no SOCKS); https:// targets through a CONNECT tunnel, TLS end to end. Overrides the environment; none: no proxy. Without it: https_proxy or HTTPS_PROXY for https:// targets, http_proxy for http:// (HTTP_PROXY too, except in CGI, when REQUEST_METHOD is set). no_proxy/NO_PROXY (comma-separated: host and its subdomains, .domain, IP address, CIDR network, *) are reached directly, and so is loopback (localhost, 127.0.0.0/8, ::1), always. A password in --proxy shows in the process list: prefer the variables' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l tsa-timeout -d 'bound on each exchange with the TSA, connection included (default 30); a failed or timed-out exchange is tried once more after a short pause, then the batch stops with one message' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -l no-fetch -d '(inkan extension) never use the network for B-LT: only --crl/--ocsp files'
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand extend" -s h -l help -d 'this text'
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa -d 'RFC 3161 time-stamp authority (http:// or https://)' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l out -d 'output file (one input only)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l out-dir -d 'write the outputs into DIR (made if it does not exist)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l report -d 'write one JSON line per input and a summary line' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-ca -d 'trust only the CA certificates in PEM for the TSA\'s TLS certificate (default: the system trust store). TLS 1.2/1.3; the certificate and the host name are always checked' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-user -d 'HTTP Basic user name; needs --tsa-password-env' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-password-env -d 'read the Basic password from the environment variable VAR (never given on the command line, never printed). Basic credentials go over https:// only, or over http:// to a loopback address' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-client-cert -d 'TLS client certificate (leaf first, then its chain); https:// only' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-client-key -d 'its private key, PKCS#8 (-----BEGIN PRIVATE KEY-----)' -r -F
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-password -d 'Refused, without echoing what follows (it may be a password): see --tsa-password-env' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l proxy -d '(inkan extension) the HTTP proxy for every request (TSA, OCSP, CRL): http://[USER:PASSWORD@]HOST:PORT (no https:// to the proxy, no SOCKS); https:// targets through a CONNECT tunnel, TLS end to end. Overrides the environment; none: no proxy. Without it: https_proxy or HTTPS_PROXY for https:// targets, http_proxy for http:// (HTTP_PROXY too, except in CGI, when REQUEST_METHOD is set). no_proxy/NO_PROXY (comma-separated: host and its subdomains, .domain, IP address, CIDR network, *) are reached directly, and so is loopback (localhost, 127.0.0.0/8, ::1), always. A password in --proxy shows in the process list: prefer the variables' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l tsa-timeout -d 'bound on each exchange with the TSA, connection included (default 30); a failed or timed-out exchange is tried once more after a short pause, then the batch stops with one message' -r
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l in-place -d 'replace the input PDF atomically'
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l force -d 'replace outputs that exist (atomically)'
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -l skip-existing -d 'leave outputs that exist, count their inputs as skipped'
complete -c inkan-sign -n "__fish_inkan_sign_using_subcommand timestamp" -s h -l help -d 'this text'
