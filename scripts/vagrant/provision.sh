#!/usr/bin/env bash
# Provisions one VM of the Vagrant lab; the Vagrantfile runs it as root inside
# the VM after uploading the shoal binary to /tmp/shoal and the unit to
# /tmp/shoal.service:
#   provision.sh NAME ADDRESS SERVER_CIDR [JOIN]
# Without JOIN the node bootstraps the cluster; then, while any node named in
# SHOAL_JOIN_NODES ("node2 node3") is not an alive member, it makes one join
# token for all of them (one use each, 2 h) and leaves it, root's alone, in
# /var/lib/shoal/vagrant-join-token (the token, then its uses), which the
# Vagrantfile moves to the host at once. With JOIN (HOST:7946) the node joins that cluster: the agent
# starts blank and, given SHOAL_JOIN_TOKEN (the Vagrantfile runs this script
# again with it, once node1 has made the token), `shoal join` hands it the
# token; without one it waits to be joined. Packages are installed with apt
# only when libvirtd is missing, so a box with the list below baked in needs
# no network beyond the lab (procps is there for `watch` in the drill, curl
# for the health checks). Safe to run again: shoal is restarted only when its
# binary, unit or settings changed, and a node that holds its certificate
# needs no token.
set -euo pipefail

packages=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
	qemu-system-x86 qemu-utils dnsmasq-base dnsmasq-utils rsync procps curl)

log() { printf 'provision: %s\n' "$*"; }

if (($# < 3 || $# > 4)); then
	echo "usage: $0 NAME ADDRESS SERVER_CIDR [JOIN]" >&2
	exit 2
fi
name=$1 address=$2 cidr=$3 join=${4:-}
data=/var/lib/shoal

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

# Security groups between guests of one host see bridged traffic only
# through br_netfilter, a module on Debian's kernel; the agent refuses to
# start without it. Loaded now, and at every boot.
if [[ $(cat /etc/modules-load.d/shoal.conf 2>/dev/null) != br_netfilter ]]; then
	echo br_netfilter >/etc/modules-load.d/shoal.conf
fi
if [[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
	log "loading br_netfilter"
	modprobe br_netfilter
fi

settings=$(mktemp)
trap 'rm -f "$settings"' EXIT
{
	echo "# Written by scripts/vagrant/provision.sh: the environment of \`shoal agent\`."
	echo "SHOAL_NAME=$name"
	echo "SHOAL_DATA_DIR=$data"
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
# below) is that admin in every shell, as after `source admin-openrc`; the
# cluster CA it trusts is a readable copy of the node's (DATA_DIR/tls is
# root's alone).
# shellcheck disable=SC2016 # expanded at login, not now
{
	echo 'if [ -r "$HOME/admin-openrc" ]; then . "$HOME/admin-openrc"; fi'
	echo "export SHOAL_ADDR=https://$address:8774"
	echo 'if [ -r /etc/shoal/ca.crt ]; then export OS_CACERT=/etc/shoal/ca.crt; fi'
} >/etc/profile.d/shoal.sh

systemctl daemon-reload
systemctl enable --now libvirtd
systemctl enable shoal
if ((changed)); then
	systemctl restart shoal
else
	systemctl start shoal
fi

member() { [[ -f $data/tls/node.crt ]]; }
# healthy: GET /v1/health (no token needed) answers 200 over HTTPS, the
# node's certificate verified with the cluster CA.
healthy() {
	curl -sf -o /dev/null -m 5 --cacert "$data/tls/ca.crt" "https://$address:8774/v1/health"
}
# wait_for WHAT CHECK: up to 60 s.
wait_for() {
	for _ in $(seq 60); do
		"$2" 2>/dev/null && return 0
		sleep 1
	done
	log "warning: $name: no $1 after 60 s; see journalctl -u shoal" >&2
	return 1
}
waiting() { [[ -S $data/shoal.sock ]]; }

if [[ -n $join ]] && ! member; then
	wait_for "agent waiting on $data/shoal.sock" waiting || exit 1
	if [[ -z ${SHOAL_JOIN_TOKEN:-} ]]; then
		log "$name waits to be joined: the Vagrantfile hands it node1's join token; by hand: sudo SHOAL_JOIN_TOKEN=TOKEN shoal join --data-dir $data"
		exit 0
	fi
	# The token comes in the environment: it is in no file and no argv.
	shoal join --data-dir "$data"
fi

# Wait for the API so that `vagrant up` ends with nodes that answer. The
# bootstrap node wrote its admin's credentials (0600, root's) when it made
# its cluster; the login user gets a copy of its own.
wait_for "answer on https://$address:8774" healthy || exit 0
log "$name is up: https://$address:8774"
install -D -m 0644 "$data/tls/ca.crt" /etc/shoal/ca.crt
if [[ -f $data/admin-openrc ]] && id vagrant >/dev/null 2>&1; then
	install -m 0600 -o vagrant -g vagrant "$data/admin-openrc" ~vagrant/admin-openrc
	log "the cluster's admin credentials: $data/admin-openrc, copied to ~vagrant/admin-openrc (sourced at login: shoal members, shoal server list)"
fi

# node1: one join token for the nodes named in SHOAL_JOIN_NODES that are
# not alive members yet, for the Vagrantfile to hand them.
if [[ -z $join && -n ${SHOAL_JOIN_NODES:-} ]]; then
	# shellcheck source=/dev/null
	admin() { (. "$data/admin-openrc" && XDG_CACHE_HOME=/root/.cache shoal "$@"); }
	admin_ok() { admin token issue >/dev/null; }
	wait_for "admin login at node1" admin_ok || exit 1
	alive=$(admin members | awk 'NR > 1 && $3 == "alive" { print $1 }')
	uses=0
	for n in $SHOAL_JOIN_NODES; do grep -qx "$n" <<<"$alive" || uses=$((uses + 1)); done
	if ((uses > 0)); then
		# The token, then how many nodes it admits.
		(umask 077 && { admin cluster join-token create --uses "$uses" --ttl 2h && echo "$uses"; } >"$data/vagrant-join-token.new")
		mv -f "$data/vagrant-join-token.new" "$data/vagrant-join-token"
		log "made a join token for $uses node(s) (2 h), for the Vagrantfile to hand them"
	fi
fi
