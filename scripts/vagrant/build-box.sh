#!/usr/bin/env bash
# Builds the Vagrant lab's box from Debian packages only and registers it as
# shoal/bookworm-local (libvirt provider):
#   scripts/vagrant/build-box.sh          # as root; about 4 min the first time
#   SHOAL_BOX_FORCE=1 scripts/vagrant/build-box.sh   # rebuild even if up to date
#
# A Debian 12 system made by debootstrap (the machine's apt mirror, or
# SHOAL_DEBIAN_MIRROR) with a cloud kernel, extlinux, ifupdown + dhclient, sshd,
# sudo, user `vagrant` with Vagrant's insecure key, and everything a shoal node
# needs baked in (the package list of provision.sh, plus curl), so the VMs need
# no network beyond the lab's. Output in .lab/vagrant/: shoal-bookworm.box, a
# tar of box.img (qcow2), metadata.json and a Vagrantfile. Skipped when the box
# is newer than this script and already registered.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT="$ROOT/.lab/vagrant"
BOX="$OUT/shoal-bookworm.box"
NAME=shoal/bookworm-local
MIRROR=${SHOAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DISK_GB=10          # sparse: shoal's servers' disks need room in the VM
LABEL=shoal-root
# What the first boot needs, then what a shoal node needs (keep in step with
# the list at the top of provision.sh).
base_packages=systemd-sysv,linux-image-cloud-amd64,openssh-server,sudo,ifupdown,isc-dhcp-client,extlinux,iproute2
node_packages=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
	qemu-system-x86 qemu-utils dnsmasq-base dnsmasq-utils rsync procps curl)

log() { printf 'build-box: %s\n' "$*"; }
die() { log "$*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "must run as root (debootstrap, loop devices)"

registered() { vagrant box list 2>/dev/null | grep -q "^$NAME "; }

export VAGRANT_CHECKPOINT_DISABLE=1
if [[ ${SHOAL_BOX_FORCE:-0} != 1 && -s $BOX && $BOX -nt ${BASH_SOURCE[0]} ]]; then
	if registered; then
		log "$BOX is up to date and registered as $NAME"
		exit 0
	fi
	log "registering $BOX as $NAME"
	vagrant box add --force --name "$NAME" "$BOX"
	exit 0
fi

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v extlinux >/dev/null || need+=(extlinux)
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || need+=(syslinux-common)
command -v sfdisk >/dev/null || need+=(fdisk)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v vagrant >/dev/null || need+=(vagrant)
dpkg-query -W -f='${Status}' vagrant-libvirt 2>/dev/null | grep -q 'install ok installed' || need+=(vagrant-libvirt)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${need[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi
key=$(find /usr/share/rubygems-integration /usr/lib/ruby /opt/vagrant -path "*/keys/vagrant.pub" 2>/dev/null | head -1 || true)
[[ -n $key ]] || die "Vagrant's insecure public key (keys/vagrant.pub) not found"

mkdir -p "$OUT"
work=$(mktemp -d "$OUT/build.XXXXXX")
rootfs=$work/rootfs mnt=$work/mnt loop=""
# shellcheck source=scripts/image-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/../image-build.sh"
trap 'image_build_cleanup "$rootfs" "$mnt" "$loop" "$work"' EXIT

t0=$SECONDS
log "debootstrap bookworm (minbase) from $MIRROR"
debootstrap --variant=minbase --include="$base_packages" bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
	{ tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

log "installing the node's packages in the tree: ${node_packages[*]}"
mount -t proc proc "$rootfs/proc"
mount -t sysfs sys "$rootfs/sys"
mount --bind /dev "$rootfs/dev"
mount --bind /dev/pts "$rootfs/dev/pts"
# No daemon starts in the build tree.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
in_tree() { chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
in_tree apt-get update >"$work/apt.log" 2>&1 &&
	in_tree apt-get install -y --no-install-recommends "${node_packages[@]}" >>"$work/apt.log" 2>&1 ||
	{ tail -n 30 "$work/apt.log" >&2; die "apt-get install in the tree failed"; }
in_tree apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs/usr/sbin/policy-rc.d"

log "configuring: user vagrant, network, boot"
in_tree useradd -m -s /bin/bash -G libvirt vagrant
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$key" "$rootfs/home/vagrant/.ssh/authorized_keys"
in_tree chown -R vagrant:vagrant /home/vagrant/.ssh
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$rootfs/etc/sudoers.d/vagrant"
chmod 0440 "$rootfs/etc/sudoers.d/vagrant"
echo shoal-box >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tshoal-box\n' >"$rootfs/etc/hosts"
echo "LABEL=$LABEL / ext4 errors=remount-ro 0 1" >"$rootfs/etc/fstab"
# net.ifnames=0 below: the first NIC is eth0, whatever the machine type.
cat >"$rootfs/etc/network/interfaces" <<'EOF'
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
EOF
# sshd must not wait for DNS; each VM gets its own machine-id at first boot.
echo 'UseDNS no' >"$rootfs/etc/ssh/sshd_config.d/vagrant.conf"
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
kernel=$(cd "$rootfs/boot" && ls vmlinuz-* | sort -V | tail -1)
initrd=initrd.img-${kernel#vmlinuz-}
[[ -f $rootfs/boot/$initrd ]] || die "no /boot/$initrd in the tree"
mkdir -p "$rootfs/boot/extlinux"
cat >"$rootfs/boot/extlinux/extlinux.conf" <<EOF
DEFAULT debian
PROMPT 0
TIMEOUT 1
LABEL debian
  LINUX /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=LABEL=$LABEL ro console=tty0 console=ttyS0,115200 net.ifnames=0 biosdevname=0
EOF
for m in "$rootfs/dev/pts" "$rootfs/dev" "$rootfs/proc" "$rootfs/sys"; do umount -l "$m"; done
log "tree ready in $((SECONDS - t0)) s ($(du -sh "$rootfs" | cut -f1))"

log "disk: ${DISK_GB} GB raw, one bootable partition, ext4 $LABEL, extlinux"
raw=$work/disk.raw
truncate -s "${DISK_GB}G" "$raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$raw"
# No partition scanning for loop devices here: attach the partition itself.
loop=$(losetup --find --show --offset $((2048 * 512)) "$raw")
# extlinux cannot boot from ext4's 64bit feature.
mkfs.ext4 -q -L "$LABEL" -O ^64bit "$loop"
mkdir -p "$mnt"
mount "$loop" "$mnt"
cp -a "$rootfs/." "$mnt/"
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
umount "$mnt"
losetup -d "$loop"
loop=""
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none

log "box: qcow2 + metadata.json + Vagrantfile"
mkdir -p "$work/box"
qemu-img convert -O qcow2 "$raw" "$work/box/box.img"
printf '{"provider":"libvirt","format":"qcow2","virtual_size":%d}\n' "$DISK_GB" >"$work/box/metadata.json"
cat >"$work/box/Vagrantfile" <<'EOF'
# shoal/bookworm-local, built by shoal's scripts/vagrant/build-box.sh.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.disk_bus = "virtio"
    lv.nic_model_type = "virtio"
  end
end
EOF
tar -C "$work/box" -cf "$BOX.new" metadata.json Vagrantfile box.img
mv -f "$BOX.new" "$BOX"
log "built $BOX ($(du -h "$BOX" | cut -f1)) in $((SECONDS - t0)) s"

vagrant box add --force --name "$NAME" "$BOX"
log "registered as $NAME"
