#!/usr/bin/env bash
# Provisions one VM of the Vagrant lab; the Vagrantfile runs it as root inside
# the VM after uploading the shoal binary to /tmp/shoal and the unit to
# /tmp/shoal.service:
#   provision.sh NAME ADDRESS SERVER_CIDR [JOIN]
# Without JOIN the node bootstraps the cluster; with it (HOST:7946) it joins.
# Packages are installed with apt only when libvirtd is missing, so a box with
# the list below baked in needs no network beyond the lab (procps is there for
# `watch` in the drill). Safe to run again: shoal is restarted only when its
# binary, unit or settings changed.
set -euo pipefail

packages=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
	qemu-system-x86 qemu-utils dnsmasq-base dnsmasq-utils rsync procps)

log() { printf 'provision: %s\n' "$*"; }

if (($# < 3 || $# > 4)); then
	echo "usage: $0 NAME ADDRESS SERVER_CIDR [JOIN]" >&2
	exit 2
fi
name=$1 address=$2 cidr=$3 join=${4:-}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ! command -v libvirtd >/dev/null && ! [[ -x /usr/sbin/libvirtd ]]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
elif ((${#missing[@]})); then
	# libvirt is baked in: no apt (the VM may have no route to a mirror).
	log "warning: the box lacks ${missing[*]}; not installing (libvirtd is present)" >&2
fi

changed=0
install_file() { # mode source destination: replaces destination atomically if it differs
	if ! cmp -s "$2" "$3"; then
		install -m "$1" "$2" "$3.new"
		mv -f "$3.new" "$3"
		changed=1
	fi
}

if [[ -f /tmp/shoal ]]; then
	install_file 0755 /tmp/shoal /usr/local/bin/shoal
	rm -f /tmp/shoal
fi
[[ -x /usr/local/bin/shoal ]] || { log "no /tmp/shoal was uploaded and /usr/local/bin/shoal is missing" >&2; exit 1; }
if [[ -f /tmp/shoal.service ]]; then
	install_file 0644 /tmp/shoal.service /etc/systemd/system/shoal.service
	rm -f /tmp/shoal.service
fi

settings=$(mktemp)
trap 'rm -f "$settings"' EXIT
{
	echo "# Written by scripts/vagrant/provision.sh: the environment of \`shoal agent\`."
	echo "SHOAL_NAME=$name"
	echo "SHOAL_DATA_DIR=/var/lib/shoal"
	echo "SHOAL_BIND=$address"
	echo "SHOAL_ADVERTISE=$address"
	if [[ -z $join ]]; then
		# Ignored once Raft state exists: a restarted node1 rejoins its cluster.
		echo "SHOAL_BOOTSTRAP=true"
	else
		echo "SHOAL_JOIN=$join"
	fi
	echo "SHOAL_DRIVER=libvirt"
	echo "SHOAL_LIBVIRT_URI=qemu:///system"
	echo "SHOAL_NETWORK_CIDR=$cidr"
} >"$settings"
install_file 0644 "$settings" /etc/default/shoal

# The client's default address is 127.0.0.1; the agent listens on the lab
# address. A login user with a copy of the bootstrap admin's openrc (node1,
# below) is that admin in every shell, as after `source admin-openrc`.
{
	echo 'if [ -r "$HOME/admin-openrc" ]; then . "$HOME/admin-openrc"; fi'
	echo "export SHOAL_ADDR=http://$address:8774"
} >/etc/profile.d/shoal.sh

systemctl daemon-reload
systemctl enable --now libvirtd
systemctl enable shoal
if ((changed)); then
	systemctl restart shoal
else
	systemctl start shoal
fi

# healthy: GET /v1/health (no token needed) answers 200.
healthy() {
	local status
	exec 3<>"/dev/tcp/$address/8774" || return 1
	printf 'GET /v1/health HTTP/1.0\r\nHost: %s\r\n\r\n' "$address" >&3
	read -r _ status _ <&3 || status=
	exec 3<&-
	[[ $status == 200 ]]
}

# Wait for the API so that `vagrant up` ends with nodes that answer. The
# bootstrap node wrote its admin's credentials (0600, root's) before its
# cluster existed; the login user gets a copy of its own.
for _ in $(seq 60); do
	if healthy 2>/dev/null; then
		log "$name is up: http://$address:8774"
		if [[ -f /var/lib/shoal/admin-openrc ]] && id vagrant >/dev/null 2>&1; then
			install -m 0600 -o vagrant -g vagrant /var/lib/shoal/admin-openrc ~vagrant/admin-openrc
			log "the cluster's admin credentials: /var/lib/shoal/admin-openrc, copied to ~vagrant/admin-openrc (sourced at login: shoal members, shoal server list)"
		fi
		exit 0
	fi
	sleep 1
done
log "warning: $name does not answer on http://$address:8774 yet; see journalctl -u shoal" >&2
