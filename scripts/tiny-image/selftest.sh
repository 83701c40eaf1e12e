#!/usr/bin/env bash
# selftest.sh [IMAGE] boots shoal's tiny guest image under libvirt (TCG) and
# checks its serial console markers, its DHCP lease and hostname, its reading
# of the metadata service, and its two listeners. Needs root, nft and a running
# libvirtd (scripts/setup-libvirt.sh). Builds the image first if IMAGE is not
# given (scripts/build-tiny-image.sh, cached).
#
# It creates, and always removes again:
#   - a transient libvirt network on 10.253.7.0/24 (override the /24 with
#     SHOAL_TINY_NET=10.x.y), DHCP with one static host entry (fixed MAC ->
#     .10, hostname tiny-selftest) and no range; forward mode "open", as
#     shoal's networks, so the lease names the bridge as the guest's router;
#   - an nft table named like the bridge that drops everything the host
#     would forward from the bridge (the guest reaches the host only) and, for
#     the metadata service below, DNATs the guest's 169.254.169.254:80 to it,
#     as shoal's hosts do;
#   - a transient TCG domain (type qemu, 256 MiB) with a copy of the image as
#     its virtio disk, a virtio NIC with that MAC and its serial console logged
#     to a file;
#   - a fake metadata service: busybox httpd on the bridge's address serving
#     openstack/latest/meta_data.json with hostname tiny-selftest-md.
#     SHOAL_TINY_METADATA=0 leaves it and the DNAT out and expects
#     "shoal-tiny: metadata unavailable" instead (the guest's connection is
#     dropped: its worst case).
# It waits (<= SHOAL_TINY_TIMEOUT, 120 s) for "shoal-tiny: boot done",
# "shoal-tiny: listening 80 8080", "shoal-tiny: dhcp address <expected IP>"
# (the lease is read from the console) and "shoal-tiny: metadata hostname
# tiny-selftest-md", then asks the guest from the host
# over the bridge: GET http://IP/ (httpd) and a connection to IP:8080 (nc)
# must both answer the DHCP hostname. Then it presses the ACPI power button
# and waits for the guest to power off (SHOAL_TINY_SHUTDOWN=0 skips that).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
URI=${LIBVIRT_DEFAULT_URI:-qemu:///system}
NET=${SHOAL_TINY_NET:-10.253.7}
TIMEOUT=${SHOAL_TINY_TIMEOUT:-120}
SHUTDOWN=${SHOAL_TINY_SHUTDOWN:-1}
METADATA=${SHOAL_TINY_METADATA:-1}
MD_PORT=8775 # on the test bridge's own address only
MD_HOSTNAME=tiny-selftest-md
MAC=52:54:00:fd:07:0a
GUEST_IP=$NET.10
GUEST_NAME=tiny-selftest
tag=shoal-tiny-st-$$
bridge=shtiny$$ # <= 15 chars
bridge=${bridge:0:15}

log() { printf 'selftest: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
v() { virsh -q -c "$URI" "$@"; }

case $NET in
10.88.* | 10.88) fail "SHOAL_TINY_NET must not be inside 10.88.0.0/16" ;;
10.[0-9]*.[0-9]*) ;;
*) fail "SHOAL_TINY_NET must be the first three octets of a /24 in 10.0.0.0/8" ;;
esac
if ip -4 route show | grep -q "^$NET\.0/24 "; then
	fail "$NET.0/24 is already routed on this host; pick another with SHOAL_TINY_NET"
fi

image=${1:-}
if [[ -z $image ]]; then
	"$ROOT/scripts/build-tiny-image.sh" >&2
	image=$ROOT/.lab/images/shoal-tiny.qcow2
fi
[[ -f $image ]] || fail "no image $image"
v version >/dev/null 2>&1 || fail "libvirtd does not answer on $URI (run scripts/setup-libvirt.sh)"

tmp=$(mktemp -d /tmp/shoal-tiny-selftest.XXXXXX)
chmod 755 "$tmp" # qemu runs as libvirt-qemu and must reach the disk
net_up=0 dom_up=0 nft_up=0 md_pid=
cleanup() {
	local rc=$?
	if ((dom_up)); then v destroy "$tag" >/dev/null 2>&1 || true; fi
	if ((nft_up)); then nft delete table ip "$bridge" 2>/dev/null || true; fi
	if [[ -n $md_pid ]]; then
		kill "$md_pid" 2>/dev/null || true
		wait "$md_pid" 2>/dev/null || true
	fi
	if ((net_up)); then v net-destroy "$tag" >/dev/null 2>&1 || true; fi
	if ((rc != 0)) && [[ -s $tmp/console.log ]]; then
		log "console log:"
		sed 's/^/  | /' "$tmp/console.log" | tail -60 >&2
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp --sparse=always "$image" "$tmp/disk.qcow2"
fmt=$(qemu-img info --output=json "$tmp/disk.qcow2" | sed -n 's/.*"format": "\([a-z0-9]*\)".*/\1/p' | head -1)

cat >"$tmp/net.xml" <<XML
<network>
  <name>$tag</name>
  <forward mode='open'/>
  <bridge name='$bridge' stp='off' delay='0'/>
  <ip address='$NET.1' netmask='255.255.255.0'>
    <dhcp>
      <host mac='$MAC' name='$GUEST_NAME' ip='$GUEST_IP'/>
    </dhcp>
  </ip>
</network>
XML
cat >"$tmp/dom.xml" <<XML
<domain type='qemu'>
  <name>$tag</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='${fmt:-qcow2}'/>
      <source file='$tmp/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='$tag'/>
      <mac address='$MAC'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <log file='$tmp/console.log' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
  </devices>
</domain>
XML

v net-create "$tmp/net.xml" >/dev/null || fail "net-create failed"
net_up=1
log "network $tag: $NET.0/24 on $bridge, routed to the host only, DHCP $MAC -> $GUEST_IP ($GUEST_NAME)"
command -v nft >/dev/null || fail "nft not found (scripts/setup-libvirt.sh installs nftables)"
dnat=
if ((METADATA)); then
	mkdir -p "$tmp/md/openstack/latest"
	printf '{"uuid": "00000000-0000-4000-8000-00000000007a", "name": "%s", "hostname": "%s", "meta": {"hostname": "not-this-one"}}\n' \
		"$GUEST_NAME" "$MD_HOSTNAME" >"$tmp/md/openstack/latest/meta_data.json"
	busybox httpd -f -p "$NET.1:$MD_PORT" -h "$tmp/md" &
	md_pid=$!
	dnat="iifname \"$bridge\" ip daddr 169.254.169.254 tcp dport 80 dnat to $NET.1:$MD_PORT"
	want_md="shoal-tiny: metadata hostname $MD_HOSTNAME"
	log "metadata: 169.254.169.254:80 from $bridge -> busybox httpd on $NET.1:$MD_PORT (hostname $MD_HOSTNAME)"
else
	want_md="shoal-tiny: metadata unavailable"
fi
nft_up=1
nft -f - <<NFT || fail "nft: cannot add table ip $bridge"
table ip $bridge {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		$dnat
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "$bridge" drop
		oifname "$bridge" drop
	}
}
NFT
t0=$(date +%s.%N)
v create "$tmp/dom.xml" >/dev/null || fail "domain create failed"
dom_up=1
log "domain $tag started (TCG, 256 MiB), console log $tmp/console.log"

# dhcp_address prints the address of the guest's first complete
# "shoal-tiny: dhcp address IP" console line; it fails while there is none.
dhcp_address() {
	local n total
	n=$(grep -a -n -m1 '^shoal-tiny: dhcp address ' "$1" | cut -d: -f1)
	total=$(wc -l <"$1")
	[[ -n $n ]] && ((n <= total)) || return 1
	sed -n "${n}p" "$1" | grep -o 'dhcp address [0-9.]*' | cut -d' ' -f3
}
# metadata_line prints the guest's first complete "shoal-tiny: metadata ..."
# line, without its carriage return.
metadata_line() {
	local n total
	n=$(grep -a -n -m1 '^shoal-tiny: metadata ' "$1" | cut -d: -f1)
	total=$(wc -l <"$1")
	[[ -n $n ]] && ((n <= total)) || return 1
	sed -n "${n}p" "$1" | tr -d '\r'
}
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
t_done='' t_dhcp='' t_listen='' t_md=''
while [[ -z $t_done || -z $t_dhcp || -z $t_listen || -z $t_md ]]; do
	if [[ -f $tmp/console.log ]]; then
		# Judge the address only once its line is complete (the console
		# may be read in the middle of writing it).
		if [[ -z $t_dhcp ]] && leased=$(dhcp_address "$tmp/console.log"); then
			[[ $leased == "$GUEST_IP" ]] || fail "guest leased dhcp address $leased, want $GUEST_IP"
			t_dhcp=$(elapsed)
		fi
		[[ -z $t_done ]] && grep -q '^shoal-tiny: boot done' "$tmp/console.log" && t_done=$(elapsed)
		[[ -z $t_listen ]] && grep -q '^shoal-tiny: listening 80 8080' "$tmp/console.log" && t_listen=$(elapsed)
		if [[ -z $t_md ]] && md=$(metadata_line "$tmp/console.log"); then
			[[ $md == "$want_md" ]] || fail "guest reports '$md', want '$want_md'"
			t_md=$(elapsed)
		fi
		if grep -q '^shoal-tiny: dhcp failed' "$tmp/console.log"; then fail "guest reports: dhcp failed"; fi
	fi
	[[ $(v domstate "$tag" 2>/dev/null) == running ]] || fail "domain is no longer running"
	awk -v e="$(elapsed)" -v t="$TIMEOUT" 'BEGIN { exit !(e > t) }' &&
		fail "timed out after ${TIMEOUT}s (boot done: ${t_done:-no}, dhcp $GUEST_IP: ${t_dhcp:-no}, listening: ${t_listen:-no}, $want_md: ${t_md:-no})"
	sleep 0.1
done
log "boot done after ${t_done}s, dhcp address $GUEST_IP after ${t_dhcp}s, '$want_md' after ${t_md}s"
grep '^shoal-tiny:' "$tmp/console.log" | tr -d '\r' | sed 's/^/  | /' >&2

# answer PORT prints what the guest answers on PORT: the index page for 80,
# nc's output for 8080. nc may still be binding when the marker is out:
# the caller retries.
answer() {
	if (($1 == 80)); then
		curl -sS -m 3 "http://$GUEST_IP/"
	else
		# shellcheck disable=SC2016 # $0 and $1 are the inner bash's
		timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && cat <&3' "$GUEST_IP" "$1"
	fi
}
for port in 80 8080; do
	got=
	for ((i = 0; i < 50; i++)); do
		got=$(answer "$port" 2>/dev/null | tr -d '\r') && [[ $got == "$GUEST_NAME" ]] && break
		sleep 0.1
	done
	[[ $got == "$GUEST_NAME" ]] || fail "port $port of $GUEST_IP answers '$got', want the hostname $GUEST_NAME"
	log "port $port answers the hostname $GUEST_NAME"
done

if ((SHUTDOWN)); then
	t1=$(date +%s.%N)
	v shutdown "$tag" >/dev/null || fail "virsh shutdown failed"
	for ((i = 0; i < 300; i++)); do
		v domstate "$tag" >/dev/null 2>&1 || break # transient: gone when off
		sleep 0.1
	done
	v domstate "$tag" >/dev/null 2>&1 && fail "guest did not power off within 30s of the ACPI power button"
	dom_up=0
	log "guest powered off $(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s after the ACPI power button"
fi
echo "selftest: 1 passed, 0 failed"
