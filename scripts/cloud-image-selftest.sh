#!/usr/bin/env bash
# cloud-image-selftest.sh [--metadata] [IMAGE] boots shoal's Debian cloud
# image under QEMU (TCG, no libvirt, no shoal) with an OpenStack metadata tree
# made here, and checks that cloud-init configured the guest from it:
#   - the hostname from meta_data.json,
#   - the public key from meta_data.json in the default user's
#     authorized_keys (and an SSH login with it, over a loopback port forward,
#     where sudo works),
#   - the output of the user_data script on the serial console,
#   - "Cloud-init v. ... finished" on the serial console, naming the
#     datasource.
# The tree comes on a config drive (ISO 9660 labelled config-2, made with
# genisoimage) by default; with --metadata from a metadata service at
# 169.254.169.254:80 instead (QEMU's guestfwd runs busybox httpd -i on the
# tree for each connection; the user network is 169.254.169.0/24 so that
# address is on the guest's link) and no drive.
# Builds the image first if IMAGE is not given (scripts/build-cloud-image.sh,
# cached). Needs root only for that build; genisoimage is installed with
# apt-get when missing.
#
# The guest has QEMU's user-mode network with restrict=on: DHCP from QEMU
# (no router: restricted), no way out, one host port forward
# 127.0.0.1:<free port> -> guest:22.
# SMBIOS says OpenStack Nova, as shoal's domains do. Waits at most
# SHOAL_CLOUD_TIMEOUT (600 s) for the console markers and prints the times;
# SHOAL_CLOUD_CONSOLE=FILE keeps the console log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TIMEOUT=${SHOAL_CLOUD_TIMEOUT:-600}
MEMORY=${SHOAL_CLOUD_MEMORY:-512}
HOSTNAME_WANT=cloud-selftest
UUID=5c0a3b6e-3f2d-4c61-9a47-1d2e3f405162
MARKER=shoal-cloud-selftest

log() { printf 'cloud-selftest: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

source=config-drive
if [[ ${1:-} == --metadata ]]; then
	source=metadata
	shift
fi
image=${1:-}
if [[ -z $image ]]; then
	"$ROOT/scripts/build-cloud-image.sh" >&2
	image=$ROOT/.lab/images/shoal-debian-cloud.qcow2
fi
[[ -f $image ]] || fail "no image $image"
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
if ! command -v genisoimage >/dev/null; then
	[[ $EUID -eq 0 ]] || fail "genisoimage missing: apt-get install genisoimage"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends genisoimage >/dev/null ||
		fail "apt-get install genisoimage failed"
fi
for t in qemu-system-x86_64 qemu-img ssh ssh-keygen busybox; do
	command -v "$t" >/dev/null || fail "$t not found"
done

tmp=$(mktemp -d /tmp/shoal-cloud-selftest.XXXXXX)
qemu_pid=
cleanup() {
	local rc=$?
	if [[ -n $qemu_pid ]]; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [[ -n ${SHOAL_CLOUD_CONSOLE:-} && -f $tmp/console.log ]]; then cp "$tmp/console.log" "$SHOAL_CLOUD_CONSOLE"; fi
	if ((rc != 0)) && [[ -s $tmp/console.log ]]; then
		log "console log (last 80 lines):"
		tr -d '\r' <"$tmp/console.log" | tail -80 | sed 's/^/  | /' >&2
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the metadata tree: what shoal's would hold, the parts cloud-init reads ---
ssh-keygen -q -t ed25519 -N '' -C "$MARKER-key" -f "$tmp/key"
pub=$(cat "$tmp/key.pub")
mkdir -p "$tmp/drive/openstack/latest"
cat >"$tmp/drive/openstack/latest/meta_data.json" <<EOF
{"uuid": "$UUID", "name": "$HOSTNAME_WANT", "hostname": "$HOSTNAME_WANT",
 "availability_zone": "nova", "project_id": "selftest", "launch_index": 0,
 "public_keys": {"selftest": "$pub"},
 "keys": [{"name": "selftest", "type": "ssh", "data": "$pub"}],
 "meta": {}, "devices": []}
EOF
cat >"$tmp/drive/openstack/latest/user_data" <<EOF
#!/bin/sh
echo "$MARKER: user-data ran on \$(hostname)"
echo "$MARKER: authorized_keys \$(cat /home/debian/.ssh/authorized_keys)"
EOF
echo '{}' >"$tmp/drive/openstack/latest/vendor_data.json"
# GET /openstack lists the versions (busybox httpd redirects to the index).
echo latest >"$tmp/drive/openstack/index.html"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [[ $source == config-drive ]]; then
	genisoimage -quiet -o "$tmp/config.iso" -V config-2 -r -J "$tmp/drive" || fail "genisoimage failed"
	source_args=(-drive "file=$tmp/config.iso,media=cdrom,readonly=on")
	nic=user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22
	want_ds=DataSourceConfigDrive
else
	source_args=()
	nic=user,model=virtio-net-pci,restrict=on,net=169.254.169.0/24,hostfwd=tcp:127.0.0.1:$port-:22
	nic+=",guestfwd=tcp:169.254.169.254:80-cmd:busybox httpd -i -h $tmp/drive"
	want_ds=DataSourceOpenStackLocal
fi

# --- boot ---------------------------------------------------------------------
qemu-img create -q -f qcow2 -b "$image" -F qcow2 "$tmp/disk.qcow2"
t0=$(date +%s.%N)
qemu-system-x86_64 -machine pc,accel=tcg -m "$MEMORY" -smp 1 -no-user-config -nodefaults \
	-display none -serial "file:$tmp/console.log" -monitor none \
	-uuid "$UUID" \
	-smbios "type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial=$UUID,uuid=$UUID,family=Virtual Machine" \
	-drive "file=$tmp/disk.qcow2,if=virtio,format=qcow2" \
	"${source_args[@]}" -nic "$nic" \
	</dev/null >"$tmp/qemu.log" 2>&1 &
qemu_pid=$!
log "QEMU (TCG, ${MEMORY} MiB, $source) started, console $tmp/console.log, ssh forward 127.0.0.1:$port"

# Console lines of services come as "[  91.7] cloud-init[373]: text": lines()
# prints the text of the lines carrying MARKER's lines.
lines() { console | sed -n "s/^.*\($MARKER: \)/\1/p"; }
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
console() { [[ ! -f $tmp/console.log ]] || tr -d '\r' <"$tmp/console.log"; }
t_kernel='' t_login='' t_user='' t_finished=''
while [[ -z $t_finished || -z $t_user ]]; do
	kill -0 "$qemu_pid" 2>/dev/null || { cat "$tmp/qemu.log" >&2; fail "QEMU exited"; }
	c=$(console)
	[[ -z $t_kernel ]] && grep -q 'Run /init as init process' <<<"$c" && t_kernel=$(elapsed)
	[[ -z $t_login ]] && grep -q "^$HOSTNAME_WANT login:" <<<"$c" && t_login=$(elapsed)
	[[ -z $t_user ]] && grep -q "$MARKER: user-data ran on" <<<"$c" && t_user=$(elapsed)
	[[ -z $t_finished ]] && grep -q 'Cloud-init v\. .* finished at' <<<"$c" && t_finished=$(elapsed)
	awk -v e="$(elapsed)" -v t="$TIMEOUT" 'BEGIN { exit !(e > t) }' &&
		fail "timed out after ${TIMEOUT}s (user-data output: ${t_user:-no}, cloud-init finished: ${t_finished:-no})"
	sleep 0.5
done
c=$(console)
log "initramfs done after ${t_kernel:-?}s, user-data output after ${t_user}s, cloud-init finished after ${t_finished}s (login prompt: ${t_login:-not yet})"
grep -E "$MARKER: |Cloud-init v\. .* (running|finished at)|^ci-info: .*(Authorized keys|ssh-ed25519)" <<<"$c" | sed 's/^/  | /' >&2

# --- checks -------------------------------------------------------------------
got=$(lines)
grep -qx "$MARKER: user-data ran on $HOSTNAME_WANT" <<<"$got" ||
	fail "user-data did not report hostname $HOSTNAME_WANT: $(grep "user-data" <<<"$got")"
grep -qxF "$MARKER: authorized_keys $pub" <<<"$got" ||
	fail "the default user's authorized_keys is not the $source's key: $(grep "authorized_keys" <<<"$got")"
grep -q "Cloud-init v\. .* finished at .*Datasource $want_ds" <<<"$c" ||
	fail "cloud-init did not use $want_ds: $(grep 'Cloud-init v\. .* finished' <<<"$c")"
log "hostname $HOSTNAME_WANT, key and user-data from the $source ($want_ds)"

# sshd may start a little after cloud-final: retry for up to 60 s.
ssh_opts=(-i "$tmp/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10)
got=
for ((i = 0; i < 30; i++)); do
	got=$(ssh "${ssh_opts[@]}" debian@127.0.0.1 'hostname; sudo -n id -un' 2>"$tmp/ssh.err") && break
	sleep 2
done
[[ $got == "$HOSTNAME_WANT"$'\n'root && ! -s $tmp/ssh.err ]] ||
	fail "ssh debian@guest with the $source's key: '$got' ($(tail -1 "$tmp/ssh.err"))"
log "ssh debian@guest with the $source's key answers $HOSTNAME_WANT, sudo works, after $(elapsed)s"
echo "cloud-selftest: 1 passed, 0 failed"
