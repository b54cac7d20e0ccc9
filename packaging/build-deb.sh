#!/usr/bin/env bash
# Builds the Debian package from a tree that `make install DESTDIR=ROOT PREFIX=/usr` filled (`make deb`
# does both). No debhelper: dpkg-deb alone, with the maintainer scripts and files of packaging/debian/.
#
#   build-deb.sh ROOT OUTDIR VERSION      writes OUTDIR/vmmanager_VERSION_amd64.deb, prints its path
#
# What the tree gets on top of `make install`: man pages gzipped, the OCF link made relative (both ends
# are under /usr), stripped executables, the tmpfiles.d entry, /usr/share/doc/vmmanager (copyright,
# changelogs, the docs the systemd unit points at), DEBIAN/ (control with Depends from the libraries the
# executables link, Installed-Size, conffiles, md5sums, maintainer scripts). /var/spool/vmmanager is left
# out: postinst creates it, and no package operation ever touches what is in it.
set -euo pipefail
if [[ $# -ne 3 ]]; then
    echo "usage: $0 ROOT OUTDIR VERSION" >&2
    exit 2
fi
root=$1 outdir=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
src=$here/debian
arch=amd64
[[ $version =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { echo "build-deb.sh: bad version '$version'" >&2; exit 2; }
[[ -x $root/usr/sbin/vmmanager && -x $root/usr/lib/vmmanager/vmmanager-agent && -x $root/usr/sbin/vmctl ]] ||
    { echo "build-deb.sh: $root has no usr/sbin/vmmanager, usr/lib/vmmanager/vmmanager-agent and usr/sbin/vmctl" \
        "(make install DESTDIR=$root PREFIX=/usr)" >&2; exit 2; }

rm -rf "$root/var" "$root/DEBIAN"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/sbin/vmmanager" \
    "$root/usr/lib/vmmanager/vmmanager-agent" "$root/usr/sbin/vmctl"
gzip -9nf "$root"/usr/share/man/man8/*.8
ln -sfn ../../../../sbin/vmmanager "$root/usr/lib/ocf/resource.d/vmmanager/guest"
# bash-completion sources its scripts: no #! line.
sed -i '1{/^#!/d}' "$root/usr/share/bash-completion/completions/vmctl"
# Debian's zsh reads vendor completions from vendor-completions (site-functions is /usr/local's).
mv "$root/usr/share/zsh/site-functions" "$root/usr/share/zsh/vendor-completions"
install -D -m 0644 "$src/tmpfiles.conf" "$root/usr/lib/tmpfiles.d/vmmanager.conf"

doc=$root/usr/share/doc/vmmanager
install -d "$doc"
install -m 0644 "$src/copyright" "$doc/copyright"
install -m 0644 "$repo/README.md" "$repo"/docs/*.md "$doc/"
gzip -9nc "$repo/CHANGELOG.md" >"$doc/changelog.gz"
# The Debian changelog: one entry for this build, dated by the last commit (the same tree builds the same
# package).
date=$(git -C "$repo" log -1 --format=%cD 2>/dev/null || date -R)
printf 'vmmanager (%s) unstable; urgency=medium\n\n  * Release %s (see changelog.gz).\n\n -- %s  %s\n' \
    "$version" "$version" "vmmanager developers <vmmanager@localhost>" "$date" | gzip -9n >"$doc/changelog.Debian.gz"

# Depends: the package of every shared library the executables link (libc6 among them).
package_of() {  # dpkg knows a library by the path it installed it as: /lib or /usr/lib, link or file
    local real path pkg
    real=$(readlink -f "$1")
    for path in "$1" "$real" "/usr$1" "${1#/usr}" "/usr$real" "${real#/usr}"; do
        pkg=$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1 || true)
        if [[ -n $pkg ]]; then echo "$pkg"; return; fi
    done
    echo "build-deb.sh: no installed package has $1" >&2
    return 1
}
# The libraries the executables name (NEEDED), not what those load in turn: their packages depend on that.
libraries=$(
    for exe in "$root/usr/sbin/vmmanager" "$root/usr/lib/vmmanager/vmmanager-agent" "$root/usr/sbin/vmctl"; do
        needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | paste -sd' ')
        ldd "$exe" | awk -v needed=" $needed " '
            $2 == "=>" && $3 ~ /^\// && index(needed, " " $1 " ") { print $3 }
            $1 ~ /^\// { n = split($1, part, "/"); if (index(needed, " " part[n] " ")) print $1 }'
    done | sort -u
)
[[ -n $libraries ]] || { echo "build-deb.sh: found no libraries the executables link" >&2; exit 1; }
packages=()
for lib in $libraries; do packages+=("$(package_of "$lib")"); done
depends=$(printf '%s\n' "${packages[@]}" | sort -u | paste -sd, | sed 's/,/, /g')

size=$(du -sk --apparent-size "$root" | cut -f1)
install -d "$root/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$src/control.in" >"$root/DEBIAN/control"
install -m 0644 "$src/conffiles" "$root/DEBIAN/conffiles"
install -m 0755 "$src/postinst" "$src/postrm" "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$outdir"
deb=$outdir/vmmanager_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
