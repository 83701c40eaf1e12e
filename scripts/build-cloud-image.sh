#!/usr/bin/env bash
# build-cloud-image.sh [--force] [OUT] builds "shoal-debian-cloud": a small
# Debian 12 cloud image with cloud-init, made from Debian packages only, the
# guest that proves shoal's metadata service and config drive with the real
# client. Needs root (debootstrap, a loop device).
#
#   OUT defaults to .lab/images/shoal-debian-cloud.qcow2 under the repo root.
#   The image is built once into a cache outside the clone, keyed by this
#   script's content hash (everything the image is made of is written here):
#     ${SHOAL_IMAGE_CACHE:-$HOME/.cache/shoal-images}/debian12-cloud-<hash>.qcow2
#   so a fresh clone (CI) copies it instead of rebuilding, and changing this
#   script builds a new one (older builds are removed). --force rebuilds.
#   SHOAL_DEBIAN_MIRROR overrides the mirror (default: the one this machine's
#   apt uses for bookworm main).
#
# The image: a 2 GiB (sparse) disk, one MBR partition, ext4, extlinux booting
# Debian's cloud kernel with console=ttyS0 (cloud-init's output and its
# "Cloud-init v. ... finished" line reach the serial console log); debootstrap
# minbase + cloud-init, openssh-server, sudo, systemd-networkd, no Recommends,
# no docs. cloud-init reads datasource_list [ConfigDrive, OpenStack, None];
# its default user is "debian" (the keypair's key goes to
# /home/debian/.ssh/authorized_keys). Boot is trimmed for TCG: no timers,
# wait-online gives up after 20 s, ed25519/ecdsa host keys only.
# Debian's cloud kernel has virtio, IDE (ata_piix) and sr but no AHCI: a
# config drive must be an IDE cdrom (i440fx "pc", shoal's machine type), not
# a SATA one (q35).
# Verify with scripts/cloud-image-selftest.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF=$ROOT/scripts/build-cloud-image.sh
CACHE=${SHOAL_IMAGE_CACHE:-${HOME:-/root}/.cache/shoal-images}
DISK_MB=2048
LABEL=shoal-root
SUITE=bookworm
PACKAGES=systemd-sysv,udev,dbus,linux-image-cloud-amd64,cloud-init,python3-cffi-backend,cloud-guest-utils,openssh-server,sudo,iproute2,isc-dhcp-client
# Modules the initramfs needs to find the root disk on the buses QEMU and
# shoal's libvirt driver use (virtio; IDE for a config drive cdrom).
INITRD_MODULES=(virtio_pci virtio_blk virtio_scsi virtio_net sd_mod sr_mod ata_piix ext4 isofs)
HOST_PACKAGES=(debootstrap extlinux syslinux-common fdisk qemu-utils e2fsprogs)

log() { printf 'build-cloud-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

force=0
out=
for a in "$@"; do
	case $a in
	--force | -f) force=1 ;;
	-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$SELF"; exit 0 ;;
	-*) die "unknown option $a" ;;
	*) [[ -z $out ]] || die "usage: $0 [--force] [OUT]"; out=$a ;;
	esac
done
out=${out:-$ROOT/.lab/images/shoal-debian-cloud.qcow2}
mkdir -p "$(dirname "$out")" "$CACHE"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
hash=$(sha256sum "$SELF" | cut -c1-16)
cached=$CACHE/debian12-cloud-$hash.qcow2

report() {
	local size
	size=$(stat -c %s "$out")
	printf '%s %s bytes (%s MiB)\n' "$out" "$size" "$(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}')"
}
# deliver copies the cached image to OUT unless OUT already is that image.
# A copy, not a link: whoever boots OUT without an overlay must not change
# the cache.
deliver() {
	if [[ $out != "$cached" ]] && ! { [[ -f $out ]] && cmp -s "$cached" "$out"; }; then
		cp --sparse=always "$cached" "$out.tmp.$$"
		mv -f "$out.tmp.$$" "$out"
	fi
	report
}

if ((!force)) && [[ -s $cached ]]; then
	log "cached $cached (use --force to rebuild)"
	deliver
	exit 0
fi

[[ $EUID -eq 0 ]] || die "must run as root (debootstrap, loop devices)"
start=$SECONDS

# --- host tools ---------------------------------------------------------------
missing=()
for p in "${HOST_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
PATH=$PATH:/usr/sbin:/sbin
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || die "no /usr/lib/syslinux/mbr/mbr.bin (syslinux-common)"

# The mirror this machine's apt uses for bookworm main, so the build reaches
# nothing the machine does not already use.
# shellcheck disable=SC2016 # $(...) are apt's format fields
mirror=${SHOAL_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(IDENTIFIER)' 2>/dev/null |
	awk -v s="$SUITE" '$2 == s && $3 == "main" && $4 == "Packages" { print $1; exit }')}
mirror=${mirror:-http://deb.debian.org/debian/}

work=$(mktemp -d "$CACHE/build.XXXXXX")
rootfs=$work/rootfs mnt=$work/mnt loop=""
# shellcheck source=scripts/image-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/image-build.sh"
trap 'image_build_cleanup "$rootfs" "$mnt" "$loop" "$work"' EXIT

# --- tree ---------------------------------------------------------------------
# debootstrap follows Depends only: nothing Recommended comes in. It does not
# resolve virtual packages: python3-cffi-backend provides python3-cryptography's
# python3-cffi-backend-api-min/max, so it is named.
log "debootstrap $SUITE (minbase + ${PACKAGES//,/ }) from $mirror"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{
		tail -n 30 "$rootfs/debootstrap/debootstrap.log" "$work/debootstrap.log" >&2 2>/dev/null
		die "debootstrap failed"
	}
t_tree=$((SECONDS - start))

mount -t proc proc "$rootfs/proc"
mount -t sysfs sys "$rootfs/sys"
mount --bind /dev "$rootfs/dev"
mount --bind /dev/pts "$rootfs/dev/pts"
in_tree() { chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

log "configuring: cloud-init, network, boot"
# No docs, manuals or translations now or from later installs; copyrights stay.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-shoal-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{man,info}/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

# cloud-init: which datasources, and nothing slow it can skip. C.UTF-8 is
# built in, so the locale module has nothing to generate (locale-gen takes
# tens of seconds under TCG). RSA host keys take seconds to make under TCG.
# /etc/hosts gets the hostname, or sudo stalls resolving it.
cat >"$rootfs/etc/cloud/cloud.cfg.d/99-shoal.cfg" <<'EOF'
# shoal-debian-cloud (scripts/build-cloud-image.sh)
datasource_list: [ConfigDrive, OpenStack, None]
locale: C.UTF-8
ssh_genkeytypes: [ed25519, ecdsa]
manage_etc_hosts: true
EOF
echo 'LANG=C.UTF-8' >"$rootfs/etc/default/locale"

# Network: cloud-init renders systemd-networkd files (from network_data.json,
# or DHCP on the first NIC as its fallback); net.ifnames=0 keeps it eth0.
in_tree systemctl enable systemd-networkd.service >/dev/null 2>&1
mkdir -p "$rootfs/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$rootfs/etc/systemd/system/systemd-networkd-wait-online.service.d/shoal.conf" <<'EOF'
# A guest without a lease must not hold cloud-config back for 2 minutes.
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=20
EOF
# Nothing periodic runs in a test guest, nor what it has no use for.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer e2scrub_reap.service \
	systemd-binfmt.service proc-sys-fs-binfmt_misc.automount; do
	in_tree systemctl mask "$u" >/dev/null 2>&1 || true
done
# sshd must not wait for DNS; cloud-init makes the host keys at first boot,
# and each guest gets its own machine-id.
echo 'UseDNS no' >"$rootfs/etc/ssh/sshd_config.d/shoal.conf"
rm -f "$rootfs"/etc/ssh/ssh_host_*
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
echo localhost >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
echo "LABEL=$LABEL / ext4 errors=remount-ro 0 1" >"$rootfs/etc/fstab"

# A small initramfs (decompressing it is slow under TCG): the listed modules
# and their dependencies, not every storage driver.
sed -i 's/^MODULES=.*/MODULES=list/' "$rootfs/etc/initramfs-tools/initramfs.conf"
printf '%s\n' "${INITRD_MODULES[@]}" >>"$rootfs/etc/initramfs-tools/modules"
in_tree update-initramfs -u -k all >"$work/initramfs.log" 2>&1 ||
	{ tail -n 20 "$work/initramfs.log" >&2; die "update-initramfs failed"; }

kernel=$(cd "$rootfs/boot" && ls vmlinuz-* | sort -V | tail -1)
initrd=initrd.img-${kernel#vmlinuz-}
[[ -f $rootfs/boot/$initrd ]] || die "no /boot/$initrd in the tree"
mkdir -p "$rootfs/boot/extlinux"
cat >"$rootfs/boot/extlinux/extlinux.conf" <<EOF
DEFAULT debian
PROMPT 0
TIMEOUT 0
LABEL debian
  LINUX /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=LABEL=$LABEL ro console=tty0 console=ttyS0,115200 net.ifnames=0
EOF
in_tree apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
for m in "$rootfs/dev/pts" "$rootfs/dev" "$rootfs/proc" "$rootfs/sys"; do umount -l "$m"; done
log "tree ready: $(du -sh "$rootfs" | cut -f1), kernel $kernel, initrd $(stat -c %s "$rootfs/boot/$initrd") bytes"

# --- disk ---------------------------------------------------------------------
raw=$work/disk.raw
truncate -s "${DISK_MB}M" "$raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$raw"
# No partition scanning for loop devices here: attach the partition itself.
loop=$(losetup --find --show --offset $((2048 * 512)) --sizelimit $(((DISK_MB * 1024 - 1024) * 1024)) "$raw")
# extlinux cannot boot from ext4's 64bit feature.
mkfs.ext4 -q -L "$LABEL" -O ^64bit "$loop"
mkdir -p "$mnt"
mount "$loop" "$mnt"
cp -a "$rootfs/." "$mnt/"
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1 || die "extlinux --install failed"
umount "$mnt"
losetup -d "$loop"
loop=""
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none

qemu-img convert -q -c -f raw -O qcow2 "$raw" "$work/disk.qcow2"
mv -f "$work/disk.qcow2" "$cached"
find "$CACHE" -maxdepth 1 -name 'debian12-cloud-*.qcow2' ! -name "$(basename "$cached")" -delete
log "built in $((SECONDS - start)) s (debootstrap $t_tree s): $cached"
deliver
