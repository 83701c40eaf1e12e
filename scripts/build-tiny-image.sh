#!/usr/bin/env bash
# build-tiny-image.sh [--force] [OUT] builds "shoal-tiny", shoal's CirrOS: a
# tiny bootable qcow2 guest image made from Debian packages only.
#
#   OUT defaults to .lab/images/shoal-tiny.qcow2 under the repo root.
#   The build is skipped when OUT is newer than this script and the files in
#   scripts/tiny-image/ (selftest.sh excepted); --force rebuilds anyway.
#
# The image is an unpartitioned FAT volume made bootable with syslinux, holding
#   vmlinuz     Debian's cloud kernel (linux-image-cloud-amd64; the .deb is
#               fetched with `apt-get download` and unpacked, never installed)
#   initrd.gz   busybox-static, its applet symlinks, the virtio/ACPI modules in
#               dependency order (from depmod on the unpacked package) and
#               scripts/tiny-image/init
# The guest prints on its serial console (kernel cmdline console=ttyS0):
#   shoal-tiny: booting
#   shoal-tiny: dhcp address <IP>       (or "shoal-tiny: dhcp failed")
#   shoal-tiny: listening 80 8080       (httpd: an index page holding the
#                                        hostname; nc: answers the hostname)
#   shoal-tiny: boot done
# then keeps a shell on the console; the ACPI power button powers it off.
# Verify with scripts/tiny-image/selftest.sh.
#
# Host packages it needs, installed with apt-get --no-install-recommends when
# missing (needs root then): busybox-static syslinux syslinux-common mtools
# dosfstools cpio qemu-utils kmod gzip.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/tiny-image
SELF=$ROOT/scripts/build-tiny-image.sh
FAT_MB=${SHOAL_TINY_FAT_MB:-40}
# Modules to load, in this order; their dependencies come first (computed).
WANT_MODULES=(virtio_pci virtio_net virtio_blk button evdev)
PACKAGES=(busybox-static syslinux syslinux-common mtools dosfstools cpio qemu-utils kmod gzip)

log() { printf 'build-tiny-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

force=0
out=
for a in "$@"; do
	case $a in
	--force | -f) force=1 ;;
	-h | --help) sed -n '2,26p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $a" ;;
	*) [[ -z $out ]] || die "usage: $0 [--force] [OUT]"; out=$a ;;
	esac
done
out=${out:-$ROOT/.lab/images/shoal-tiny.qcow2}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

inputs=("$SELF")
for f in "$HERE"/*; do
	[[ -f $f && $(basename "$f") != selftest.sh ]] && inputs+=("$f")
done

report() {
	local size
	size=$(stat -c %s "$out")
	printf '%s %s bytes (%s MiB)\n' "$out" "$size" "$(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}')"
}

if ((!force)) && [[ -s $out ]]; then
	fresh=1
	for f in "${inputs[@]}"; do
		[[ $out -nt $f ]] || { fresh=0; break; }
	done
	if ((fresh)); then
		log "up to date (use --force to rebuild)"
		report
		exit 0
	fi
fi

start=$SECONDS

# --- host tools ---------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	[[ $EUID -eq 0 ]] || die "missing packages ${missing[*]}: run as root or apt-get install them"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
for t in busybox syslinux mkfs.vfat mcopy cpio qemu-img depmod; do
	command -v "$t" >/dev/null || [[ -x /sbin/$t || -x /usr/sbin/$t ]] || die "$t not found"
done
PATH=$PATH:/usr/sbin:/sbin

work=$(mktemp -d /tmp/shoal-tiny-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- kernel -----------------------------------------------------------------------
# The meta package names the current kernel package; resolve and download it.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
if [[ -z $kpkg ]]; then
	[[ $EUID -eq 0 ]] && apt-get update >/dev/null
	kpkg=$(apt-cache depends linux-image-cloud-amd64 |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
fi
[[ -n $kpkg ]] || die "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
mkdir -p "$work/deb"
chmod 755 "$work"
chown _apt "$work/deb" 2>/dev/null || true # lets apt download sandboxed
log "downloading $kpkg"
(cd "$work/deb" && apt-get download "$kpkg" >/dev/null) || die "apt-get download $kpkg failed"
dpkg-deb -x "$work"/deb/*.deb "$work/kernel"
kver=$(basename "$(ls -d "$work"/kernel/lib/modules/*/)")
[[ -f $work/kernel/boot/vmlinuz-$kver ]] || die "no vmlinuz-$kver in $kpkg"
depmod -b "$work/kernel" "$kver"
moddir=$work/kernel/lib/modules/$kver

# order_modules prints each wanted module after its dependencies, once each.
# modules.dep lists a module's dependencies last-loaded-first.
order_modules() {
	awk -v want="$*" '
		function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.(xz|zst|gz))?$/, "", p); return p }
		{
			sub(/:$/, "", $1); m = base($1); path[m] = $1; ndeps[m] = NF - 1
			for (i = 2; i <= NF; i++) dep[m, i - 1] = base($i)
		}
		function emit(m,   i) {
			if (m in done) return
			if (!(m in path)) { print "no module " m " in modules.dep" > "/dev/stderr"; failed = 1; return }
			for (i = ndeps[m]; i >= 1; i--) emit(dep[m, i])
			done[m] = 1; print m, path[m]
		}
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) emit(w[i]); exit failed }
	' "$moddir/modules.dep"
}

# --- initramfs ----------------------------------------------------------------------
rd=$work/initramfs
mkdir -p "$rd"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc/acpi/PWRF,lib/modules,var/log,root}
cp "$(command -v busybox)" "$rd/bin/busybox"
busybox --list-full | while read -r applet; do
	case $applet in */*) ;; *) continue ;; esac # skip linuxrc
	[[ -e $rd/$applet ]] || ln -s /bin/busybox "$rd/$applet"
done
: >"$rd/etc/modules.order"
modlist=$(order_modules "${WANT_MODULES[@]}") || die "cannot order modules"
while read -r name rel; do
	src=$moddir/$rel
	case $src in
	*.ko) cp "$src" "$rd/lib/modules/$name.ko" ;;
	*.ko.xz) xz -dc "$src" >"$rd/lib/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$src" >"$rd/lib/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$src" >"$rd/lib/modules/$name.ko" ;;
	esac
	echo "$name" >>"$rd/etc/modules.order"
done <<<"$modlist"
install -m 755 "$HERE/init" "$rd/init"
install -m 755 "$HERE/udhcpc.script" "$rd/etc/udhcpc.script"
install -m 755 "$HERE/power-button" "$rd/etc/acpi/PWRF/00000080"
install -m 644 "$HERE/inittab" "$rd/etc/inittab"
echo "root:x:0:0:root:/root:/bin/sh" >"$rd/etc/passwd"
echo "root:x:0:" >"$rd/etc/group"
echo "shoal-tiny $kver" >"$rd/etc/shoal-tiny-release"
# The kernel opens /dev/console before /init runs; /init copes without it.
[[ $EUID -eq 0 ]] && mknod -m 600 "$rd/dev/console" c 5 1
(cd "$rd" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$work/initrd.gz"

# --- boot disk ----------------------------------------------------------------------
raw=$work/disk.raw
mkfs.vfat -C -n SHOALTINY "$raw" $((FAT_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$raw" ::/syslinux
mcopy -i "$raw" "$work/kernel/boot/vmlinuz-$kver" ::/vmlinuz
mcopy -i "$raw" "$work/initrd.gz" ::/initrd.gz
mcopy -i "$raw" "$HERE/syslinux.cfg" ::/syslinux/syslinux.cfg
syslinux --install --directory /syslinux "$raw"

tmpout=$out.tmp.$$
qemu-img convert -q -c -f raw -O qcow2 "$raw" "$tmpout" 2>/dev/null ||
	qemu-img convert -q -f raw -O qcow2 "$raw" "$tmpout"
mv -f "$tmpout" "$out"
log "built from $kpkg (kernel $kver, modules: $(paste -sd' ' "$rd/etc/modules.order"))"
log "initrd $(stat -c %s "$work/initrd.gz") bytes, kernel $(stat -c %s "$work/kernel/boot/vmlinuz-$kver") bytes, FAT ${FAT_MB} MB, $((SECONDS - start)) s"
report
