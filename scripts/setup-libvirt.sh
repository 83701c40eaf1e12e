#!/usr/bin/env bash
# setup-libvirt.sh installs and starts libvirtd (QEMU driver) on a Debian host
# without systemd, so that shoal's libvirt driver and its `libvirt`-tagged tests
# can reach qemu:///system. Safe to run again: each step checks first.
set -euo pipefail

packages=(libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86
	qemu-utils libvirt-clients dnsmasq-base dnsmasq-utils
	iproute2 curl nftables) # the last three for the lab (scripts/lab, lab/; nft
# for power-off, which deletes the nftables tables shoal's hosts made)
wait_seconds=30

log() { printf 'setup-libvirt: %s\n' "$*"; }

if [[ $EUID -ne 0 ]]; then
	log "must run as root" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${packages[@]}"
else
	log "packages already installed"
fi

# Without udev nobody gives /dev/kvm to the kvm group, so libvirt (which runs
# QEMU as libvirt-qemu:kvm) finds it unusable after probing QEMU with it, calls
# its cached capabilities outdated and re-probes QEMU (~4 s) on every call that
# needs them: defining one domain then takes over 30 s. Do what udev would.
if [[ -c /dev/kvm ]] && getent group kvm >/dev/null &&
	{ [[ $(stat -c %G /dev/kvm) != kvm ]] || ((($(stat -c '0%a' /dev/kvm) & 060) != 060)); }; then
	log "giving /dev/kvm to group kvm, group read-write (as udev would)"
	chgrp kvm /dev/kvm
	chmod g+rw /dev/kvm
fi

# Bridged IPv4 meets netfilter (shoal's security groups, and the netns tests
# of compute/network) only through br_netfilter: built into some kernels, a
# module in Debian's. Nothing else is needed: shoal programs nftables over
# netlink and runs no `nft`.
if [[ ! -d /proc/sys/net/bridge ]]; then
	log "loading br_netfilter"
	modprobe br_netfilter
fi

# running NAME succeeds when the daemon's pid file names a live NAME process,
# or, lacking one, when a process called NAME exists.
running() {
	local pid
	if [[ -s /run/$1.pid ]] && pid=$(<"/run/$1.pid") &&
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]]; then
		return 0
	fi
	pgrep -x "$1" >/dev/null
}

for d in virtlogd libvirtd; do
	if running "$d"; then
		log "$d already running"
	else
		log "starting $d"
		"$d" -d
	fi
done

deadline=$((SECONDS + wait_seconds))
while ((SECONDS < deadline)); do
	if out=$(timeout 5 virsh -c qemu:///system version 2>/dev/null); then
		log "libvirtd answers on qemu:///system"
		printf '%s\n' "$out"
		exit 0
	fi
	sleep 1
done
log "libvirtd did not answer on qemu:///system within ${wait_seconds}s" >&2
exit 1
