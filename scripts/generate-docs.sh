#!/usr/bin/env bash
# Generates vmctl's shell completion scripts and its man page from the command definitions, so they
# never drift from `vmctl --help`:
#   Resources/completions/vmctl.bash   bash  (ArgumentParser's --generate-completion-script)
#   Resources/completions/_vmctl       zsh
#   Resources/completions/vmctl.fish   fish
#   Resources/man/vmctl.8              swift-argument-parser's generate-manual plugin (mdoc), plus the
#                                      EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO sections below
# Run it after changing a command, an option or a help text; commit what it writes. Works offline:
# the plugin comes with the swift-argument-parser checkout the package already resolved.
#   SCRATCH=.build-vmctl scripts/generate-docs.sh      # another build directory (default .build)
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
SWIFT=${SWIFT:-swift}

"$SWIFT" build --scratch-path "$SCRATCH" --product vmctl >&2
bin=$("$SWIFT" build --scratch-path "$SCRATCH" --show-bin-path)/vmctl

mkdir -p Resources/completions Resources/man
"$bin" --generate-completion-script bash >Resources/completions/vmctl.bash
"$bin" --generate-completion-script zsh >Resources/completions/_vmctl
"$bin" --generate-completion-script fish >Resources/completions/vmctl.fish

# The date of the last change to vmctl's sources, so that regenerating an unchanged tool changes nothing.
date=$(git log -1 --format=%cs -- Sources/vmctl 2>/dev/null || true)
date=${date:-$(date +%F)}
"$SWIFT" package --scratch-path "$SCRATCH" plugin generate-manual --configuration debug --section 8 \
    --date "$date" >&2
generated="$SCRATCH/plugins/GenerateManual/outputs/vmctl/vmctl.8"

# mdoc wants .Pp, not empty lines, between paragraphs; the plugin's closing `.Ex -std` is replaced by
# vmctl's own exit codes and the sections the plugin does not write.
{
    awk '/^\.Sh "EXIT STATUS"/ { exit } /^$/ { print ".Pp"; next } { print }' "$generated"
    cat <<'MDOC'
.Sh EXIT STATUS
.Bl -tag -width 4n -compact
.It 0
success (for
.Cm status :
the guest runs)
.It 1
failure (for
.Cm check :
a check failed)
.It 2
no such guest
.It 3
libvirt cannot be reached
.It 4
a deadline passed
.It 5
refused by a safety check
.It 6
invalid input (XML, settings, arguments)
.It 7
the guest is defined but not running
.Pf ( Cm status
only)
.It 64
usage error
.El
.Sh ENVIRONMENT
.Bl -tag -width 14n
.It Ev VMCTL_CONNECT
libvirt URI used when
.Fl -connect
is not given (default qemu:///system).
.It Ev NO_COLOR
when set, no colours even on a terminal.
.El
.Sh FILES
.Bl -tag -width 4n
.It Pa /etc/vmmanager/vmmanager.conf
settings shared with the resource agent, read by
.Cm status , undefine , wait-boot
and
.Cm check
.Pf ( Fl -config ) .
.It Pa /run/vmmanager/ Ns Ar guest Ns Pa .lock
per-guest lock shared with the resource agent
.Pf ( Cm lock_dir ) .
.It Pa /var/lib/libvirt/qemu/save/ Ns Ar guest Ns Pa .save
libvirt's managed-save images
.Pf ( Cm managed_save_dir ) .
.El
.Sh SEE ALSO
.Xr vmmanager 8 ,
.Xr virsh 1 ,
.Xr libvirtd 8 ;
docs/vmctl.md in the vmmanager sources.
MDOC
} >Resources/man/vmctl.8
echo "wrote Resources/completions/{vmctl.bash,_vmctl,vmctl.fish} and Resources/man/vmctl.8" >&2
