#!/bin/bash
# Builds the testbed guest image: a Debian kernel (vmlinuz) and a busybox
# initramfs (initrd.img) with the virtio modules and qemu-ga.
#
#   build-image.sh [--if-needed] [OUT_DIR]
#
# OUT_DIR defaults to $TESTBED_DIR/images (TESTBED_DIR defaults to
# /var/lib/vmmanager-testbed). The kernel package is downloaded (not installed)
# into $TESTBED_DIR/cache. With --if-needed nothing happens when OUT_DIR holds
# an image built by this very builder (the stamp records the checksum of this
# script and of guest/init).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IF_NEEDED=0
if [[ ${1:-} == --if-needed ]]; then IF_NEEDED=1; shift; fi
TESTBED_DIR=${TESTBED_DIR:-/var/lib/vmmanager-testbed}
OUT=${1:-$TESTBED_DIR/images}
CACHE=$TESTBED_DIR/cache
INIT_SRC=$HERE/init
STAMP=$OUT/.stamp

checksum=$(cat "$HERE/build-image.sh" "$INIT_SRC" | sha256sum | cut -d' ' -f1)
if [[ $IF_NEEDED == 1 && -s $OUT/vmlinuz && -s $OUT/initrd.img && -f $STAMP ]] &&
    [[ $(head -n1 "$STAMP") == "$checksum" ]]; then
    exit 0
fi

say() { echo "build-image: $*"; }

# --- tools ---------------------------------------------------------------
for tool in busybox qemu-ga cpio gzip dpkg-deb ldd; do
    command -v "$tool" >/dev/null || { echo "build-image: missing tool $tool (run testbed/up.sh, it installs packages)" >&2; exit 1; }
done
BUSYBOX=/bin/busybox   # from busybox-static
[[ -x $BUSYBOX ]] || BUSYBOX=$(command -v busybox)
if [[ $(ldd "$BUSYBOX" 2>&1 || true) != *"not a dynamic"* ]]; then
    echo "build-image: $BUSYBOX is not static (install busybox-static)" >&2
    exit 1
fi
QGA=$(command -v qemu-ga)

# --- kernel package --------------------------------------------------------
mkdir -p "$CACHE" "$OUT"
resolve_kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
kpkg=$(resolve_kernel_pkg || true)
if [[ -z $kpkg ]]; then
    say "apt-cache does not know linux-image-amd64; running apt-get update"
    apt-get update -q >/dev/null
    kpkg=$(resolve_kernel_pkg)
fi
[[ -n $kpkg ]] || { echo "build-image: cannot resolve the kernel package behind linux-image-amd64" >&2; exit 1; }
deb=$(ls -1 "$CACHE/${kpkg}"_*.deb 2>/dev/null | tail -n1 || true)
if [[ -z $deb ]]; then
    say "downloading $kpkg"
    (cd "$CACHE" && apt-get download -q "$kpkg" 2>&1 | grep -v 'unsandboxed' || true)
    deb=$(ls -1 "$CACHE/${kpkg}"_*.deb 2>/dev/null | tail -n1 || true)
    [[ -n $deb ]] || { echo "build-image: apt-get download $kpkg failed" >&2; exit 1; }
fi
say "kernel package $(basename "$deb")"

WORK=$(mktemp -d "$TESTBED_DIR/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
dpkg-deb -x "$deb" "$WORK/kernel"
vmlinuz=$(ls -1 "$WORK"/kernel/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$WORK/kernel/lib/modules/$kver
[[ -d $moddir ]] || moddir=$WORK/kernel/usr/lib/modules/$kver

# --- initramfs root ------------------------------------------------------------
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,var,etc,lib/modules,lib64}
ln -s ../run "$R/var/run"
cp "$BUSYBOX" "$R/bin/busybox"
# Every applet as a symlink, so /bin/cat, /bin/sh, ... exist (guest-exec needs /bin/cat).
for applet in $("$R/bin/busybox" --list-full); do
    [[ -e $R/$applet ]] || ln -s /bin/busybox "$R/$applet"
done
[[ -e $R/bin/sh && -e $R/bin/cat ]] || { echo "build-image: busybox applets sh/cat missing" >&2; exit 1; }

# virtio modules, decompressed (busybox insmod cannot read .ko.xz/.ko.zst): the console port for the guest
# agent, and virtio-net (with the failover modules it needs) for the cluster lab's LAN.
GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console failover net_failover virtio_net"
for m in $GUEST_MODULES; do
    f=$(find "$moddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | sort | head -n1 || true)
    if [[ -z $f ]]; then
        if grep -q "/$m.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
            say "module $m is built into the kernel"
            continue
        fi
        echo "build-image: module $m not found in $kpkg" >&2
        exit 1
    fi
    case $f in
        *.xz) xz -dc "$f" >"$R/lib/modules/$m.ko" ;;
        *.zst) zstd -dqc "$f" >"$R/lib/modules/$m.ko" ;;
        *.gz) gzip -dc "$f" >"$R/lib/modules/$m.ko" ;;
        *) cp "$f" "$R/lib/modules/$m.ko" ;;
    esac
done

# qemu-ga plus every library ldd lists, and the loader, at the same paths.
cp "$QGA" "$R/usr/sbin/qemu-ga"
ln -sf /usr/sbin/qemu-ga "$R/sbin/qemu-ga" 2>/dev/null || true
for lib in $(ldd "$QGA" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }'); do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
done

cp "$INIT_SRC" "$R/init"
chmod 0755 "$R/init"

# --- pack ------------------------------------------------------------------------
(cd "$R" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$WORK/initrd.img"
cp "$vmlinuz" "$WORK/vmlinuz"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initrd.img" "$OUT/initrd.img"
chmod 0644 "$OUT/vmlinuz" "$OUT/initrd.img"
printf '%s\nkernel=%s\nbuilt=%s\n' "$checksum" "$(basename "$deb")" "$(date -u +%FT%TZ)" >"$STAMP"
say "wrote $OUT/vmlinuz ($(du -h "$OUT/vmlinuz" | cut -f1)) and $OUT/initrd.img ($(du -h "$OUT/initrd.img" | cut -f1))"
