function __vmctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __vmctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __vmctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __vmctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __vmctl_parse_tokens -S
    set -l unparsed_tokens (__vmctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'vmctl'
        __vmctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'list'
            __vmctl_parse_subcommand 0 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'all' 'json' 'version' 'h/help'
        case 'status'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'json' 'version' 'h/help'
        case 'define'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'pin-identity' 'write' 'version' 'h/help'
        case 'undefine'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'force' 'timeout=' 'version' 'h/help'
        case 'start'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'wait' 'probe=' 'force-boot' 'timeout=' 'version' 'h/help'
        case 'stop'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'mode=' 'timeout=' 'version' 'h/help'
        case 'suspend'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'version' 'h/help'
        case 'resume'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'version' 'h/help'
        case 'save'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'file=' 'timeout=' 'version' 'h/help'
        case 'restore'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'file=' 'wait' 'timeout=' 'version' 'h/help'
        case 'saved'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'keep=' 'discard' 'json' 'timeout=' 'version' 'h/help'
        case 'wait-boot'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'probe=' 'timeout=' 'new-lines' 'version' 'h/help'
        case 'migrate'
            __vmctl_parse_subcommand 2 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'offline' 'migrate-uri=' 'max-downtime=' 'bandwidth=' 'undefine-source' 'p2p' 'timeout=' 'version' 'h/help'
        case 'events'
            __vmctl_parse_subcommand 1 'c/connect=' 'call-timeout=' 'v/verbose' 'json' 'version' 'h/help'
        case 'check'
            __vmctl_parse_subcommand 0 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'peer-timeout=' 'json' 'version' 'h/help'
        case 'notify'
            __vmctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'test'
                __vmctl_parse_subcommand 0 'config=' 'v/verbose' 'guest=' 'version' 'h/help'
            case 'flush'
                __vmctl_parse_subcommand 0 'config=' 'v/verbose' 'background' 'version' 'h/help'
            case 'list'
                __vmctl_parse_subcommand 0 'config=' 'v/verbose' 'json' 'version' 'h/help'
            end
        case 'watch'
            __vmctl_parse_subcommand 0 'c/connect=' 'call-timeout=' 'v/verbose' 'config=' 'guest=+' 'settle=' 'flush-interval=' 'also-connect=+' 'version' 'h/help'
        case 'alert'
            __vmctl_parse_subcommand 0 'config=' 'stdin' 'wait' 'version' 'h/help'
        case 'slots'
            __vmctl_parse_subcommand 0 'config=' 'json' 'version' 'h/help'
        case 'help'
            __vmctl_parse_subcommand -r 1 'version'
        end
    end
end

function __vmctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __vmctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __vmctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __vmctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__vmctl_tokens -p)
    if test -z "$(__vmctl_tokens -t)"
        set -l index (count (__vmctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'vmctl' -f
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'list' -d 'List guests: state, uptime, saved image, identity, node.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'status' -d 'Everything about one guest that matters during an incident.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'define' -d 'Define (or redefine) a guest from its domain XML.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'undefine' -d 'Remove a stopped guest\'s libvirt definition (never its XML file).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'start' -d 'Start a guest: resume it if paused, restore it if it has a saved image, else boot it.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'stop' -d 'Stop a guest: managed save, else graceful shutdown, else destroy.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'suspend' -d 'Pause a guest\'s CPUs; its memory stays in RAM (`save` frees the memory).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'resume' -d 'Resume a paused guest.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'save' -d 'Save a running guest\'s memory to disk and stop it; `start` (or `restore`) resumes it.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'restore' -d 'Resume a guest from its saved image.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'saved' -d 'Show a guest\'s saved images, and choose between them after a split brain.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'wait-boot' -d 'Wait until a running guest is ready by its readiness policy.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'migrate' -d 'Move a guest to another host, live by default.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'events' -d 'Print guests\' life-cycle events as they happen.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'check' -d 'Validate the configuration and every managed guest before a failover does.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'notify' -d 'Test, flush and list the transition notifications (e-mail and webhooks).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'watch' -d 'Notify what happens to guests outside the cluster\'s actions (crash, shutdown inside, I/O error).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'alert' -d 'Pacemaker alert agent: notify lost nodes, fencing and failed resource operations.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'slots' -d 'Show the node\'s admission slots: which guests boot, restore or save now, and who waits.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" all' -l 'all' -d 'Include the defined guests that are not running.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" json' -l 'json' -d 'Print a JSON array of objects instead of a table (keys in docs/vmctl.md).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl status" -eq 1' -fka '(__vmctl_custom_completion ---completion status -- positional@0 (count (__vmctl_tokens -pc)) (__vmctl_tokens -tC))'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" json' -l 'json' -d 'Print a JSON object instead of text (keys in docs/vmctl.md).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" pin-identity' -l 'pin-identity' -d 'Derive a missing UUID and missing MACs deterministically.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" write' -l 'write' -d 'With --pin-identity: write the pinned XML back into the file.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl define" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl undefine" -eq 1' -fka '(__vmctl_custom_completion ---completion undefine -- positional@0 (count (__vmctl_tokens -pc)) (__vmctl_tokens -tC))'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" force' -l 'force' -d 'Also remove the guest\'s managed-save image (its saved memory is lost).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" timeout' -l 'timeout' -d 'Seconds to wait for the guest\'s lock.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl undefine" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" wait' -l 'wait' -d 'Wait until the guest is ready.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" probe' -l 'probe' -d 'How to tell that it is ready, with --wait (default: the guest\'s readiness setting).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" force-boot' -l 'force-boot' -d 'Cold-boot instead of restoring a saved image (the image is kept in the quarantine directory).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" timeout' -l 'timeout' -d 'Seconds the whole start (and wait) may take.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl start" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" mode' -l 'mode' -d 'Use only this method (save, shutdown, destroy) instead of the chain.' -rfka 'save shutdown destroy'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" timeout' -l 'timeout' -d 'Seconds the whole stop may take.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl stop" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl suspend" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl suspend" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl suspend" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl suspend" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl suspend" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl suspend" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl resume" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl resume" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl resume" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl resume" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl resume" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" file' -l 'file' -d 'Write a bare image to this file instead of the guest\'s saved state.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" timeout' -l 'timeout' -d 'Seconds the save may take.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl save" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" file' -l 'file' -d 'Restore from this file (written by `save --file`).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" wait' -l 'wait' -d 'Wait until the guest is ready (its readiness setting).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" timeout' -l 'timeout' -d 'Seconds the restore (and wait) may take.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl restore" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" keep' -l 'keep' -d 'Keep this image as the guest\'s current state; the others go to quarantine.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" discard' -l 'discard' -d 'Move every saved image to quarantine: the next start cold-boots the guest.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" json' -l 'json' -d 'Print JSON (see docs/vmctl.md).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" timeout' -l 'timeout' -d 'Seconds to wait for the guest\'s lock.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl saved" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl wait-boot" -eq 1' -fka '(__vmctl_custom_completion ---completion wait-boot -- positional@0 (count (__vmctl_tokens -pc)) (__vmctl_tokens -tC))'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" probe' -l 'probe' -d 'How to tell it is ready (default: the guest\'s readiness setting).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" timeout' -l 'timeout' -d 'Seconds to wait.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" new-lines' -l 'new-lines' -d 'serial: count only console lines written from now on.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl wait-boot" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" offline' -l 'offline' -d 'Move only the definition of a stopped guest.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" migrate-uri' -l 'migrate-uri' -d 'Where QEMU sends memory, e.g. tcp:10.0.0.2 (default: libvirt picks from the destination\'s hostname).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" max-downtime' -l 'max-downtime' -d 'Longest pause the guest may see at switch-over, in ms.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" bandwidth' -l 'bandwidth' -d 'Bandwidth cap in MiB/s.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" undefine-source' -l 'undefine-source' -d 'Undefine the guest here afterwards.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" p2p' -l 'p2p' -d 'Peer-to-peer: the source libvirtd connects to the destination itself.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" timeout' -l 'timeout' -d 'Seconds before the migration is aborted.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl migrate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl events" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl events" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl events" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl events" -eq 1' -fka '(__vmctl_custom_completion ---completion events -- positional@0 (count (__vmctl_tokens -pc)) (__vmctl_tokens -tC))'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl events" json' -l 'json' -d 'One JSON object per line instead of text.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl events" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl events" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" peer-timeout' -l 'peer-timeout' -d 'Seconds each peer may take to answer.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" json' -l 'json' -d 'Print a JSON array of findings ({level, subject, message}) instead of lines.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl notify" -eq 1' -fa 'test' -d 'Send a test message to every configured target and say what each one answered.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl notify" -eq 1' -fa 'flush' -d 'Deliver the spooled events; exit 0 when none is left.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_positional "vmctl notify" -eq 1' -fa 'list' -d 'List the spooled events, with the targets still to reach and their last error.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify test" config' -l 'config' -d 'vmmanager configuration file.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify test" v verbose' -l 'verbose' -s 'v' -d 'Log what the notifier does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify test" guest' -l 'guest' -d 'Use this guest\'s [guest NAME] overrides and name it in the message.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify test" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify test" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify flush" config' -l 'config' -d 'vmmanager configuration file.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify flush" v verbose' -l 'verbose' -s 'v' -d 'Log what the notifier does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify flush" background' -l 'background' -d 'Started by the agent: no output, and do not wait for a flush that is already running.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify flush" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify flush" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify list" config' -l 'config' -d 'vmmanager configuration file.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify list" v verbose' -l 'verbose' -s 'v' -d 'Log what the notifier does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify list" json' -l 'json' -d 'Print JSON (an array of objects) instead of a table.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify list" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl notify list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" c connect' -s 'c' -l 'connect' -d 'libvirt URI of the host to manage.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" call-timeout' -l 'call-timeout' -d 'Deadline in seconds of each libvirt call (a hung libvirtd fails instead of hanging).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" v verbose' -l 'verbose' -s 'v' -d 'Log what vmctl does to stderr.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" config' -l 'config' -d 'vmmanager configuration file.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch"' -l 'guest' -d 'Watch only this guest (repeatable).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" settle' -l 'settle' -d 'Seconds an event that a cluster action may have caused waits before it is judged.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" flush-interval' -l 'flush-interval' -d 'Seconds between retries of the spool.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch"' -l 'also-connect' -d 'Watch this local hypervisor too (repeatable), e.g. lxc:///system for containers beside --connect\'s VMs.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl watch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl alert" config' -l 'config' -d 'vmmanager configuration file.' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl alert" stdin' -l 'stdin' -d 'Read the CRM_alert_* variables from stdin (NUL-separated KEY=VALUE), e.g. through sudo.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl alert" wait' -l 'wait' -d 'Deliver now and wait, instead of starting a detached flush.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl alert" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl alert" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl slots" config' -l 'config' -d 'vmmanager configuration file (the agent\'s).' -rfka ''
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl slots" json' -l 'json' -d 'Print JSON (see docs/vmctl.md).'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl slots" version' -l 'version' -d 'Show the version.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl slots" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vmctl' -n '__vmctl_should_offer_completions_for_flags_or_options "vmctl help" version' -l 'version' -d 'Show the version.'
