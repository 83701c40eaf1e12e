#!/usr/bin/env bash
# The Vagrant lab's failover drill, automated, as root:
#   scripts/vagrant-drill.sh
#
# Everything runs inside the network namespace shvag, which gets a private
# mount namespace and its own libvirtd (state in .lab/vagrant/ns/), so the
# machine's libvirtd and networks are never touched and every VM address
# (vagrant-libvirt's management network 192.168.121.0/24, the lab's private
# network) stays inside it. Steps: build bin/shoal and the box
# (scripts/vagrant/build-box.sh), `vagrant up` node1..3 from shoal/bookworm-local
# (node1 bootstraps; node2 and node3 join with its join token, see Vagrantfile),
# upload a blank qcow2 image, create SHOAL_DRILL_SERVERS servers (1 vCPU, 64 MiB,
# 1 GiB: blank disks, since their QEMU is TCG inside TCG), power one VM off
# hard (virsh destroy), wait until its servers are ACTIVE on the others with
# the same IPs and print that failover time, `vagrant up` the node again, and
# check that no server runs twice and that the node runs none of the moved
# servers (each VM's QEMU processes sampled from before the node returns until
# 30 s after it is back, the returned VM's libvirt logs since its boot, each
# VM's `virsh list` at the end). Then, even on failure, everything is
# torn down (vagrant destroy, the namespace's processes, the namespace, its
# state). Logs of the last run stay in .lab/vagrant/logs/.
#
# Settings: SHOAL_DRILL_SERVERS (6), SHOAL_DRILL_VICTIM (default: the non-leader
# node holding the most servers), SHOAL_DRILL_MEMORY (MiB per VM, 1536),
# SHOAL_DRILL_TIMEOUT (s to wait for the failover, 180), SHOAL_DRILL_KEEP=1
# (leave the lab up after a failure, to look around; tear down with
# `scripts/vagrant-drill.sh down`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LAB="$ROOT/.lab/vagrant"
STATE="$LAB/ns"       # the namespace's /var/lib/libvirt, /var/log/libvirt, /etc/libvirt
LOGS="$LAB/logs"
NS=shvag
NODES=3
NET=192.168.56        # the Vagrantfile's default private network
SERVERS=${SHOAL_DRILL_SERVERS:-6}
TIMEOUT=${SHOAL_DRILL_TIMEOUT:-180}

export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_CWD="$ROOT" VAGRANT_DOTFILE_PATH="$LAB/dot"
export SHOAL_VAGRANT_BOX=shoal/bookworm-local SHOAL_VAGRANT_NODES=$NODES SHOAL_VAGRANT_NET=$NET
export SHOAL_VAGRANT_CPUS=1 SHOAL_VAGRANT_MEMORY=${SHOAL_DRILL_MEMORY:-1536}
export SHOAL_VAGRANT_LIBVIRT_DRIVER=${SHOAL_VAGRANT_LIBVIRT_DRIVER:-qemu}

log() { printf 'vagrant-drill: %s\n' "$*"; }
die() { log "FAIL: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "must run as root (network namespace, libvirtd)"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH=/usr/local/go/bin:$PATH; fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; }
init_pid() { # the live process holding the namespace's mounts, or fails
	local pid
	pid=$(cat "$STATE/init.pid" 2>/dev/null) || return 1
	[[ -d /proc/$pid ]] && ns_exists || return 1
	[[ $(stat -L -c %i "/proc/$pid/ns/net") == "$(stat -L -c %i "/var/run/netns/$NS")" ]] || return 1
	echo "$pid"
}
inns() { # runs a command inside the namespace (its network and mounts)
	local pid
	pid=$(init_pid) || die "namespace $NS is not running"
	nsenter --mount="/proc/$pid/ns/mnt" --net="/var/run/netns/$NS" --wd="$ROOT" -- "$@"
}

ns_up() {
	mkdir -p "$STATE/lib/images" "$STATE/log" "$LOGS"
	# The machine's /etc/libvirt minus its domains, networks and pools: only
	# what vagrant-libvirt creates lives in this libvirtd.
	cp -a /etc/libvirt/. "$STATE/etc/"
	rm -rf "$STATE/etc/qemu" "$STATE/etc/storage" "$STATE/etc/secrets"
	mkdir -p "$STATE/etc/qemu/networks/autostart" "$STATE/etc/storage/autostart" "$STATE/etc/secrets"
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	# shellcheck disable=SC2016
	setsid ip netns exec "$NS" unshare -m sh -c '
		set -e
		D=$1
		mount --make-rprivate /
		mount -t tmpfs tmpfs /run
		mkdir -p /run/libvirt /run/lock
		mount --bind "$D/lib" /var/lib/libvirt
		mount --bind "$D/log" /var/log/libvirt
		mount --bind "$D/etc" /etc/libvirt
		echo $$ >"$D/init.pid"
		virtlogd -d
		libvirtd -d
		exec sleep infinity
	' shvag-init "$STATE" </dev/null >"$LOGS/init.log" 2>&1 9>&- &
	disown $! # teardown kills it, silently
	for _ in $(seq 150); do
		if init_pid >/dev/null && inns virsh -c qemu:///system version >/dev/null 2>&1; then
			inns virsh -q -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
			inns virsh -q -c qemu:///system pool-start default >/dev/null
			return 0
		fi
		sleep 0.2
	done
	cat "$LOGS/init.log" >&2 || true
	die "the namespace's libvirtd did not answer within 30 s"
}

teardown() { # idempotent: whatever a run (or a killed one) left
	set +e
	if init_pid >/dev/null && [[ -d $VAGRANT_DOTFILE_PATH ]]; then
		log "teardown: vagrant destroy -f"
		inns timeout 600 vagrant destroy -f >>"$LOGS/destroy.log" 2>&1 || log "teardown: vagrant destroy failed (see $LOGS/destroy.log)"
	fi
	if ns_exists; then
		# libvirtd, virtlogd, dnsmasq, QEMU and the namespace's init: all ours.
		local pids killed="" n p
		for n in $(seq 100); do
			pids=$(ip netns pids "$NS" 2>/dev/null)
			[[ -z $pids ]] && break
			killed="$killed $pids"
			# shellcheck disable=SC2086
			kill -9 $pids 2>/dev/null
			sleep 0.1
		done
		for p in $killed; do
			for n in $(seq 100); do [[ -e /proc/$p ]] || break; sleep 0.05; done
		done
		ip netns del "$NS"
	fi
	rm -rf "$STATE" "$VAGRANT_DOTFILE_PATH" "$LAB/ssh-config" "$LAB/blank.qcow2" "$LAB/admin-openrc" "$LAB/ca.crt" "$LAB/cache"
	set -e
}

if [[ ${1:-} == down ]]; then
	teardown
	log "torn down"
	exit 0
fi
[[ $# -eq 0 ]] || { sed -n '2,28s/^# \{0,1\}//p' "$0"; exit 2; }

mkdir -p "$LAB"
exec 9>"$LAB/drill.lock"
flock -n 9 || die "another drill is running (lock $LAB/drill.lock)"
t_all=$(now)
rm -rf "$LOGS"
mkdir -p "$LOGS"
teardown # a run that was killed may have left its namespace
on_exit() {
	local rc=$?
	if ((rc != 0)); then
		log "failed (exit $rc); logs in $LOGS"
		if [[ ${SHOAL_DRILL_KEEP:-0} == 1 ]]; then
			log "SHOAL_DRILL_KEEP=1: the lab stays up; scripts/vagrant-drill.sh down removes it"
			exit "$rc"
		fi
	fi
	teardown
	log "torn down; total $(since "$t_all") s"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# On a fresh machine: the namespace's libvirtd and what the drill itself runs
# (build-box.sh installs vagrant, vagrant-libvirt and debootstrap).
need=()
for p in libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 \
	qemu-utils dnsmasq-base iproute2 util-linux openssh-client jq; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${need[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi

t=$(now)
log "building bin/shoal"
go build -o bin/shoal ./cmd/shoal
log "box"
"$ROOT/scripts/vagrant/build-box.sh" 2>&1 | sed 's/^/  /'
log "bin/shoal and box ready in $(since "$t") s"

ns_up
log "namespace $NS up, its libvirtd answers"

t=$(now)
log "vagrant up (3 VMs, libvirt driver $SHOAL_VAGRANT_LIBVIRT_DRIVER, 1 vCPU, $SHOAL_VAGRANT_MEMORY MiB each); log: $LOGS/up.log"
if ! inns vagrant up --provider=libvirt >"$LOGS/up.log" 2>&1; then
	tail -n 40 "$LOGS/up.log" >&2
	die "vagrant up failed"
fi
t_up=$(since "$t")
log "vagrant up took $t_up s"

ssh_config() { inns vagrant ssh-config >"$LAB/ssh-config" 2>>"$LOGS/ssh-config.log"; }
on_node() { # node command...: through ssh with vagrant's settings (faster than vagrant ssh)
	local node=$1
	shift
	inns ssh -F "$LAB/ssh-config" -o ConnectTimeout=10 "$node" "$@"
}
ssh_config

addr() { echo "$NET.$((10 + ${1#node}))"; }
api_node=node1
# The drill is the cluster's admin: node1's admin-openrc (root's, 0600, in
# the VM), kept 0600 here and sourced for every call as a user would, with
# OS_AUTH_URL at the node asked (node1 may be the one powered off), and the
# cluster CA copied from node1 as its OS_CACERT (the openrc names the VM's
# path).
(umask 077 && on_node node1 sudo cat /var/lib/shoal/admin-openrc </dev/null >"$LAB/admin-openrc") ||
	die "cannot read node1's /var/lib/shoal/admin-openrc"
on_node node1 cat /etc/shoal/ca.crt </dev/null >"$LAB/ca.crt" || die "cannot read node1's /etc/shoal/ca.crt"
shoal() {
	(
		# shellcheck source=/dev/null
		. "$LAB/admin-openrc"
		export OS_AUTH_URL="https://$(addr "$api_node"):8774/identity/v3" OS_CACERT="$LAB/ca.crt" XDG_CACHE_HOME="$LAB/cache"
		inns "$ROOT/bin/shoal" --addr "https://$(addr "$api_node"):8774" "$@"
	)
}

# The manual path a person takes works too: vagrant ssh, the profile's
# SHOAL_ADDR and the admin-openrc provisioning copied for the login user.
inns vagrant ssh node1 -c 'shoal members' 2>&1 | sed 's/^/  /'
alive=0
for _ in $(seq 60); do
	alive=$(shoal members -o json | jq '[.members[] | select(.status == "alive")] | length')
	((alive == NODES)) && break
	sleep 1
done
((alive == NODES)) || die "only $alive of $NODES members alive"

log "flavor, blank image, $SERVERS servers"
shoal flavor create drill.tiny --vcpus 1 --ram 64 --disk 1 >/dev/null
qemu-img create -q -f qcow2 "$LAB/blank.qcow2" 1G
shoal image create drill-blank --file "$LAB/blank.qcow2" --disk-format qcow2 >/dev/null 2>>"$LOGS/upload.log"
t=$(now)
shoal server create drill --flavor drill.tiny --image drill-blank --count "$SERVERS" --wait | sed 's/^/  /'
log "servers ACTIVE in $(since "$t") s"
shoal server list -o json >"$LOGS/servers-before.json"
active=$(jq '[.servers[] | select(.status == "ACTIVE")] | length' "$LOGS/servers-before.json")
((active == SERVERS)) || die "$active of $SERVERS servers ACTIVE"

members=$(shoal members -o json)
leader=$(jq -r '.members[] | select(.role == "leader") | .name' <<<"$members")
victim=${SHOAL_DRILL_VICTIM:-$(jq -r --arg leader "$leader" '
	[.servers[] | .host] | group_by(.) | map({host: .[0], n: length})
	| map(select(.host != $leader)) | sort_by(-.n) | .[0].host // empty' "$LOGS/servers-before.json")}
[[ -n $victim ]] || victim=$(jq -r '.servers[0].host' "$LOGS/servers-before.json")
# victim's servers: "id ip" lines
moved=$(jq -r --arg v "$victim" '.servers[] | select(.host == $v) | "\(.id) \(.addresses[0].ip)"' "$LOGS/servers-before.json")
[[ -n $moved ]] || die "$victim holds no server"
for n in $(seq "$NODES"); do [[ node$n != "$victim" ]] && { api_node=node$n; break; }; done
log "leader $leader; victim $victim holds $(wc -l <<<"$moved") servers:"
jq -r '.servers[] | "  \(.name) \(.id) \(.host) \(.addresses[0].ip)"' "$LOGS/servers-before.json"

log "powering $victim off: virsh destroy shoal-lab-$victim (the namespace's libvirtd)"
t=$(now)
inns virsh -q -c qemu:///system destroy "shoal-lab-$victim" >/dev/null
failover="" down=""
deadline=$((SECONDS + TIMEOUT))
while ((SECONDS < deadline)); do
	if [[ -z $down ]] && [[ $(shoal host list -o json 2>/dev/null | jq -r --arg v "$victim" '.hosts[] | select(.name == $v) | .state') == down ]]; then
		down=$(since "$t")
	fi
	if list=$(shoal server list -o json 2>/dev/null); then
		pending=0
		while read -r id ip; do
			jq -e --arg id "$id" --arg ip "$ip" --arg v "$victim" '.servers[] | select(.id == $id)
				| .status == "ACTIVE" and .host != $v and .addresses[0].ip == $ip' <<<"$list" >/dev/null || pending=$((pending + 1))
		done <<<"$moved"
		if ((pending == 0)); then
			failover=$(since "$t")
			break
		fi
	fi
	sleep 0.5
done
[[ -n $failover ]] || {
	shoal server list 2>&1 | sed 's/^/  /'
	shoal host list 2>&1 | sed 's/^/  /'
	die "$victim's servers not ACTIVE elsewhere with the same IPs within $TIMEOUT s"
}
shoal server list -o json >"$LOGS/servers-after.json"
log "FAILOVER: $victim's $(wc -l <<<"$moved") servers ACTIVE on the others, same IPs, $failover s after the power-off (down in shoal host list after ${down:-?} s)"
jq -r '.servers[] | "  \(.name) \(.id) \(.host) \(.addresses[0].ip)"' "$LOGS/servers-after.json"
first=$(head -1 <<<"$moved" | cut -d' ' -f1)
shoal server actions "$first" 2>&1 | sed 's/^/  /' || true

# Every server exactly once across the VMs, and none of the moved ones on the
# victim. Reads each running VM's libvirtd; the victim only once it is back.
running_domains() { # node: names of its running shoal-* domains
	local out
	out=$(on_node "$1" sudo virsh -q -c qemu:///system list --name </dev/null) || die "cannot list $1's domains"
	grep '^shoal-' <<<"$out" || true
}
check_once() { # nodes...: fails on a server running twice or a moved one on the victim
	local n out all=""
	for n in "$@"; do
		out=$(running_domains "$n")
		[[ -z $out ]] || all+=$(sed "s/\$/ $n/" <<<"$out")$'\n'
		if [[ $n == "$victim" ]]; then
			while read -r id _; do
				grep -qx "shoal-$id" <<<"$out" && die "$victim runs moved server $id"
			done <<<"$moved"
		fi
	done
	dup=$(awk 'NF { c[$1]++; h[$1] = h[$1] " " $2 } END { for (d in c) if (c[d] > 1) print d h[d] }' <<<"$all")
	[[ -z $dup ]] || die "server running twice: $dup"
	count=$(awk 'NF' <<<"$all" | wc -l)
}
others=() all_nodes=()
for n in $(seq "$NODES"); do
	all_nodes+=("node$n")
	[[ node$n != "$victim" ]] && others+=("node$n")
done
check_once "${others[@]}"
log "while $victim is off: $count shoal domains running on ${others[*]}, none twice"

# From here on, each VM's QEMU processes are sampled twice a second (one ssh
# per VM, in the background; ps, since virsh takes seconds in a VM starved of
# CPU while another boots), so a server started on the returning node while
# it still runs elsewhere shows up even briefly.
samplers=()
sampler() { # node: "EPOCH domain..." twice a second into $LOGS/samples-NODE until killed
	local pid
	pid=$(init_pid) || die "namespace $NS is not running"
	# Not through a function: $! must be ssh itself, for stop_samplers.
	nsenter --mount="/proc/$pid/ns/mnt" --net="/var/run/netns/$NS" -- ssh -F "$LAB/ssh-config" -o ConnectTimeout=10 "$1" \
		"while :; do echo \$(date +%s) \$(ps -eo args | grep -o 'guest=shoal-[0-9a-f-]\{36\}' | cut -d= -f2); sleep 0.5; done" \
		</dev/null >>"$LOGS/samples-$1" 2>>"$LOGS/samples.err" &
	samplers+=($!)
}
stop_samplers() {
	local p
	for p in "${samplers[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${samplers[@]}"; do wait "$p" 2>/dev/null || true; done
	samplers=()
}
for n in "${others[@]}"; do sampler "$n"; done

log "bringing $victim back: vagrant up $victim"
t=$(now)
inns vagrant up "$victim" >"$LOGS/up-$victim.log" 2>&1 || { tail -n 30 "$LOGS/up-$victim.log" >&2; die "vagrant up $victim failed"; }
t_back=$(since "$t")
ssh_config
sampler "$victim"
up=""
for _ in $(seq 120); do
	state=$(shoal host list -o json | jq -r --arg v "$victim" '.hosts[] | select(.name == $v) | .state')
	status=$(shoal members -o json | jq -r --arg v "$victim" '.members[] | select(.name == $v) | .status')
	if [[ $state == up && $status == alive ]]; then up=$(since "$t"); break; fi
	sleep 1
done
[[ -n $up ]] || die "$victim did not come back up (host state '$state', member '$status')"
log "$victim back: VM up in $t_back s, host up in the cluster $up s after vagrant up"

log "sampling every VM's QEMU processes for 30 s more"
sleep 30
stop_samplers
# "EPOCH domain node" lines. Nothing moves in this phase, so a domain seen on
# two VMs at any time (not only in the same second) ran twice.
for n in $(seq "$NODES"); do
	awk -v n="node$n" '{ for (i = 2; i <= NF; i++) print $1, $i, n }' "$LOGS/samples-node$n" 2>/dev/null
done >"$LOGS/samples.txt"
samples=$(cat "$LOGS"/samples-node* | wc -l)
((samples > 0)) || die "no samples (see $LOGS/samples.err)"
dup=$(awk '{ print $2, $3 }' "$LOGS/samples.txt" | sort -u | awk '{ c[$1]++; h[$1] = h[$1] " " $2 } END { for (d in c) if (c[d] > 1) print d " on" h[d] }' | head -5)
[[ -z $dup ]] || die "server running twice: $dup"
while read -r id _; do
	if grep -q " shoal-$id $victim\$" "$LOGS/samples.txt"; then die "$victim runs moved server $id"; fi
done <<<"$moved"
# Before its first sample: the VM's libvirt log says whether it started any
# moved server since it booted.
# shellcheck disable=SC2046
started=$(on_node "$victim" sudo bash -s -- $(cut -d' ' -f1 <<<"$moved") <<'EOF'
boot=$(awk '/^btime/ { print $2 }' /proc/stat)
for id; do
	f=/var/log/libvirt/qemu/shoal-$id.log
	[ -f "$f" ] || continue
	grep 'starting up' "$f" | while read -r d t _; do
		ts=$(date -u -d "$d ${t%%+*}" +%s)
		[ "$ts" -ge "$boot" ] && echo "$id at $d $t"
	done
done
true
EOF
) || die "cannot read $victim's libvirt logs"
[[ -z $started ]] || die "$victim started moved servers after it came back: $started"
check_once "${all_nodes[@]}"
((count == SERVERS)) || die "$count shoal domains running, want $SERVERS"
shoal server list -o json >"$LOGS/servers-end.json"
ok=$(jq --arg v "$victim" '[.servers[] | select(.status == "ACTIVE")] | length' "$LOGS/servers-end.json")
((ok == SERVERS)) || die "$ok of $SERVERS servers ACTIVE at the end"
dups=$(jq -r '[.servers[] | .addresses[0].ip] | group_by(.) | map(select(length > 1)) | length' "$LOGS/servers-end.json")
((dups == 0)) || die "a fixed IP is held twice"
log "ok: $samples samples of the VMs' QEMU processes, $SERVERS servers each running exactly once, $victim runs none of the moved ones"
log "RESULT: vagrant up $t_up s; failover $failover s (host list down after ${down:-?} s); $victim back in the cluster $up s after vagrant up $victim"
