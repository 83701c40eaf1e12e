#!/usr/bin/env bash
# Multi-host lab on one machine: each "host" is a network namespace plus a
# private mount namespace running its own libvirtd + virtlogd. Needs root.
#
#   netns-lab.sh up [N]            create bridge shlab0 (10.99.0.1/24), the outside netns and hosts h1..hN (default 3)
#   netns-lab.sh exec hI CMD...    run CMD inside host I (its net + mount namespaces)
#   netns-lab.sh outside CMD...    run CMD in the outside netns shlab-out (the machine's mounts)
#   netns-lab.sh power-off hI      SIGKILL everything in host I (libvirtd, virtlogd, QEMU, exec'd processes);
#                                  drop the bridges, addresses, routes and firewall rules it made, as a reboot would
#   netns-lab.sh power-on hI       start host I's virtlogd/libvirtd again (same state dirs)
#   netns-lab.sh partition hI      cut host I's link (root-side veth down)
#   netns-lab.sh heal hI           restore host I's link
#   netns-lab.sh status            hosts, addresses, link state, whether libvirtd answers
#   netns-lab.sh env hI            print host I's host.env (for scripts/tests)
#   netns-lab.sh down              remove everything (idempotent)
#
# Layout: host I = netns shlab-hI, address 10.99.0.(10+I)/24 on its eth0; the
# root-side veth is shlab-hI, enslaved to bridge shlab0. The "outside" (what
# is beyond the cloud: a client on the internet, the external network's
# router) is netns shlab-out, its eth0 on shlab0 too with 10.99.0.2/24 and
# 10.66.0.1/24, the gateway of the lab's external network 10.66.0.0/24 (its
# floating IPs answer from the hosts' eth0). It runs nothing; `outside` runs
# a command there (busybox wget/nc, curl). State lives in
# .lab/netns/hI/{lib,log,etc} (bind-mounted over /var/lib/libvirt,
# /var/log/libvirt, /etc/libvirt inside the host); /run is a fresh tmpfs per
# boot, so transient domains and runtime state vanish on power-off like on a
# real machine, while persistent definitions (etc/qemu/*.xml) survive.
#
# Each boot runs a small "init" process (pid in .lab/netns/hI/init.pid) that
# owns the host's mount namespace and just sleeps; libvirtd/virtlogd pids are
# in libvirtd.pid / virtlogd.pid. .lab/netns/hI/host.env records, for tests:
#   SHLAB_NETNS   shlab-hI              (/var/run/netns/shlab-hI)
#   SHLAB_ADDR    10.99.0.(10+I)
#   SHLAB_INIT_PID / SHLAB_MNTNS        /proc/PID/ns/mnt of the init process
#   SHLAB_SOCKET  /proc/PID/root/run/libvirt/libvirt-sock
#   SHLAB_URI     qemu+unix:///system?socket=$SHLAB_SOCKET
# From inside the host (netns-lab.sh exec, or
# `nsenter --mount=$SHLAB_MNTNS --net=/var/run/netns/$SHLAB_NETNS -- CMD`)
# plain `virsh -c qemu:///system` reaches that host's libvirtd. From the root
# namespace, SHLAB_URI reaches it too (unix sockets are not network-
# namespaced; /proc/PID/root resolves the path in the host's mount namespace).
# Both change on every power-on (new init pid): re-read host.env.
#
# Optional: SHLAB_TCP=1 at up/power-on makes libvirtd also listen (no auth)
# on the host's lab address, for qemu+tcp://10.99.0.(10+I)/system migration.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$ROOT/.lab/netns"
BR=shlab0
BR_ADDR=10.99.0.1/24
NET_PREFIX=10.99.0
OUT_NS=shlab-out
OUT_ADDRS=(10.99.0.2/24 10.66.0.1/24)

die() { echo "netns-lab: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

ns_of() { echo "shlab-$1"; }              # h1 -> shlab-h1
idx_of() { # h1 -> 1
  [[ $1 =~ ^h([0-9]+)$ ]] || die "bad host name '$1' (want hI, e.g. h1)"
  echo "${BASH_REMATCH[1]}"
}
addr_of() { echo "$NET_PREFIX.$((10 + $(idx_of "$1")))"; }
hostdir() { echo "$LAB/$1"; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }
need_host() { idx_of "$1" >/dev/null; ns_exists "$(ns_of "$1")" || die "host $1 does not exist (run up)"; }

init_pid() { # prints the live init pid of host $1, or fails
  local f pid
  f="$(hostdir "$1")/init.pid"
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -d "/proc/$pid" ] || return 1
  # make sure the pid was not recycled: it must live in the host's netns
  [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$(stat -L -c %i "/var/run/netns/$(ns_of "$1")")" ] || return 1
  echo "$pid"
}

lab_hosts() { # existing hosts, sorted
  ip netns list 2>/dev/null | awk '{print $1}' | sed -n 's/^shlab-\(h[0-9]\+\)$/\1/p' | sort -V
}

host_exec() { # h cmd...
  local h=$1 pid wd=/
  shift
  need_host "$h"
  pid=$(init_pid "$h") || die "host $h is powered off"
  [ -d "$PWD" ] && wd=$PWD
  exec nsenter --mount="/proc/$pid/ns/mnt" --net="/var/run/netns/$(ns_of "$h")" --wd="$wd" -- "$@"
}

prepare_etc() { # dir: per-host /etc/libvirt, copied once from the machine's,
  # minus its domains, networks (the machine's default 192.168.122.0/24 and
  # shoal's networks must not be started inside lab hosts), pools and secrets.
  local d=$1
  [ -e "$d/etc/libvirtd.conf" ] && return 0
  mkdir -p "$d/etc"
  cp -a /etc/libvirt/. "$d/etc/"
  rm -rf "$d/etc/qemu" "$d/etc/storage" "$d/etc/secrets"
  mkdir -p "$d/etc/qemu/networks/autostart" "$d/etc/storage/autostart" "$d/etc/secrets"
}

power_on() { # h
  local h=$1 ns d pid i listen=""
  ns=$(ns_of "$h")
  d=$(hostdir "$h")
  need_host "$h"
  if pid=$(init_pid "$h"); then echo "$h: already powered on (init $pid)"; return 0; fi
  mkdir -p "$d/lib" "$d/log" "$d/etc"
  prepare_etc "$d"
  rm -f "$d/init.pid" "$d/libvirtd.pid" "$d/virtlogd.pid" "$d/host.env"
  if [ "${SHLAB_TCP:-0}" = 1 ]; then
    # libvirtd.conf is per host; (re)write the listen settings
    sed -i '/^listen_tcp\|^auth_tcp\|^listen_addr\|^listen_tls/d' "$d/etc/libvirtd.conf"
    printf 'listen_tls = 0\nlisten_tcp = 1\nauth_tcp = "none"\nlisten_addr = "%s"\n' "$(addr_of "$h")" >>"$d/etc/libvirtd.conf"
    listen="--listen"
  fi
  # The init process: private mounts, start the daemons, then hold the
  # namespaces open. setsid: detached from our terminal and process group.
  # shellcheck disable=SC2016
  setsid ip netns exec "$ns" unshare -m sh -c '
    set -e
    D=$1
    mount --make-rprivate /
    mount -t tmpfs tmpfs /run
    mkdir -p /run/libvirt /run/lock
    mount --bind "$D/lib" /var/lib/libvirt
    mount --bind "$D/log" /var/log/libvirt
    mount --bind "$D/etc" /etc/libvirt
    echo $$ >"$D/init.pid"
    virtlogd -d -p "$D/virtlogd.pid"
    libvirtd -d -p "$D/libvirtd.pid" $2
    exec sleep infinity
  ' shlab-init "$d" "$listen" </dev/null >>"$d/init.log" 2>&1 &
  # wait for the daemon to answer
  for i in $(seq 150); do
    if pid=$(init_pid "$h") && [ -S "/proc/$pid/root/run/libvirt/libvirt-sock" ] &&
      timeout 5 virsh -c "qemu+unix:///system?socket=/proc/$pid/root/run/libvirt/libvirt-sock" version >/dev/null 2>&1; then
      cat >"$d/host.env" <<EOF
SHLAB_HOST=$h
SHLAB_NETNS=$ns
SHLAB_ADDR=$(addr_of "$h")
SHLAB_INIT_PID=$pid
SHLAB_MNTNS=/proc/$pid/ns/mnt
SHLAB_SOCKET=/proc/$pid/root/run/libvirt/libvirt-sock
SHLAB_URI=qemu+unix:///system?socket=/proc/$pid/root/run/libvirt/libvirt-sock
EOF
      [ -n "$listen" ] && echo "SHLAB_TCP_URI=qemu+tcp://$(addr_of "$h")/system" >>"$d/host.env"
      echo "$h: powered on ($ns, $(addr_of "$h"), init $pid, libvirtd $(cat "$d/libvirtd.pid" 2>/dev/null))"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$d/init.log" >&2 || true
  die "$h: libvirtd did not answer within 15 s (see $d/init.log, $d/log/)"
}

power_off() { # h: SIGKILL every process whose netns is the host's
  local h=$1 ns pids killed="" p n=0
  ns=$(ns_of "$h")
  ns_exists "$ns" || return 0
  while :; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] && break
    killed="$killed $pids"
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    n=$((n + 1))
    [ "$n" -gt 100 ] && die "$h: processes survive SIGKILL: $pids"
    sleep 0.05
  done
  # wait (up to 5 s) until the killed processes are reaped, so that no
  # <defunct> QEMU is left for pgrep & co. to see
  for p in $killed; do
    for n in $(seq 100); do [ -e "/proc/$p" ] || break; sleep 0.05; done
  done
  reset_net "$ns" "$(addr_of "$h")"
  rm -f "$(hostdir "$h")/init.pid" "$(hostdir "$h")/host.env"
  echo "$h: powered off"
}

reset_net() { # ns addr: clear what a real reboot clears in the kernel and
  # a netns keeps: links libvirtd made (bridges; taps go with QEMU), what
  # shoal's network reconciler programmed (addresses such as floating IPs on
  # eth0 beyond the host's own, routes, proxy neighbours, nftables tables),
  # firewall rules and forwarding. A bridge left behind makes libvirtd's
  # network fail to start after power-on ("Network is already in use by
  # interface"); a floating IP left on eth0 would keep answering ARP.
  local ns=$1 addr=$2 l t ipt a r
  for l in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
    case "$l" in lo | eth0) ;; *) ip -n "$ns" link del "$l" 2>/dev/null || true ;; esac
  done
  for a in $(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}'); do
    [ "$a" = "$addr/24" ] || ip -n "$ns" addr del "$a" dev eth0 2>/dev/null || true
  done
  # Every route the kernel did not make for an address (shoal's are proto 250).
  ip -n "$ns" -4 route show table all 2>/dev/null | { grep -v ' proto kernel' || true; } | while read -r r; do
    # shellcheck disable=SC2086 # the route's words are ip's arguments
    ip -n "$ns" route del $r 2>/dev/null || true
  done
  ip -n "$ns" neigh flush proxy 2>/dev/null || true
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in filter nat mangle raw; do
      ip netns exec "$ns" "$ipt" -t "$t" -F 2>/dev/null || true
      ip netns exec "$ns" "$ipt" -t "$t" -X 2>/dev/null || true
    done
  done
  # Deletes every table, the node's `inet shoal-<node>` and `bridge shoal-<node>` with them.
  ip netns exec "$ns" nft flush ruleset 2>/dev/null || true
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0 2>/dev/null || true
}

create_host() { # h
  local h=$1 i ns addr veth peer
  i=$(idx_of "$h")
  ns=$(ns_of "$h")
  addr=$(addr_of "$h")
  veth="shlab-$h"          # root side, in the bridge (<= 15 chars up to h999)
  peer="shlab-$h-p"        # temporary name before it becomes eth0 in the netns
  ns_exists "$ns" || ip netns add "$ns"
  ip -n "$ns" link set lo up
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip link add "$veth" type veth peer name "$peer"
    ip link set "$peer" netns "$ns"
    ip -n "$ns" link set "$peer" name eth0
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip link set "$veth" master "$BR"
    ip link set "$veth" up
  fi
  mkdir -p "$(hostdir "$h")"
  : "$i"
}

create_outside() {
  local a
  ns_exists "$OUT_NS" || ip netns add "$OUT_NS"
  ip -n "$OUT_NS" link set lo up
  if ! ip link show "$OUT_NS" >/dev/null 2>&1; then
    ip link add "$OUT_NS" type veth peer name "$OUT_NS-p"
    ip link set "$OUT_NS-p" netns "$OUT_NS"
    ip -n "$OUT_NS" link set "$OUT_NS-p" name eth0
    for a in "${OUT_ADDRS[@]}"; do ip -n "$OUT_NS" addr add "$a" dev eth0; done
    ip -n "$OUT_NS" link set eth0 up
    ip link set "$OUT_NS" master "$BR"
    ip link set "$OUT_NS" up
  fi
}

cmd_up() {
  local n=${1:-3} i t0
  { [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ]; } || die "up N: N must be a positive number"
  # power-off deletes what shoal programmed in nftables: without nft it
  # could not, and a floating IP's NAT would outlive its host's power.
  command -v nft >/dev/null || die "nft not found: install nftables (scripts/setup-libvirt.sh does)"
  t0=$(date +%s%N)
  mkdir -p "$LAB" /var/run/netns
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge
    ip addr add "$BR_ADDR" dev "$BR"
    ip link set "$BR" up
  fi
  create_outside
  for i in $(seq "$n"); do create_host "h$i"; done
  # boot the hosts in parallel
  local pids=() rc=0
  for i in $(seq "$n"); do power_on "h$i" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ "$rc" = 0 ] || die "some hosts failed to boot"
  local ms=$((($(date +%s%N) - t0) / 1000000))
  echo "lab up: $n hosts in $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
}

cmd_down() {
  local h
  for h in $(lab_hosts); do power_off "$h" >/dev/null & done
  wait
  for h in $(lab_hosts); do ip netns del "$(ns_of "$h")" 2>/dev/null || true; done
  ip netns del "$OUT_NS" 2>/dev/null || true
  # root-side veths (deleting one end removes the pair) and the bridge
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | { grep '^shlab' || true; } |
    while read -r l; do ip link del "$l" 2>/dev/null || true; done
  rm -rf "$LAB"
  echo "lab down"
}

cmd_status() {
  local h ns pid ans link
  if ip link show "$BR" >/dev/null 2>&1; then
    echo "bridge $BR $(ip -br -4 addr show "$BR" | awk '{print $2, $3}')"
  else
    echo "bridge $BR absent"
  fi
  if ns_exists "$OUT_NS"; then
    echo "outside $OUT_NS $(ip -n "$OUT_NS" -br -4 addr show dev eth0 2>/dev/null | awk '{$1=""; sub(/^ /, ""); print}')"
  else
    echo "outside $OUT_NS absent"
  fi
  printf '%-4s %-10s %-12s %-5s %-8s %s\n' HOST NETNS ADDR LINK INIT LIBVIRTD
  for h in $(lab_hosts); do
    ns=$(ns_of "$h")
    link=$(ip -br link show "shlab-$h" 2>/dev/null | awk '{print $2}')
    [ "$link" = UP ] && link=up || link=${link:+down}
    pid=$(init_pid "$h" || echo off)
    ans=-
    if [ "$pid" != off ]; then
      ans=$( ("$0" exec "$h" timeout 5 virsh -c qemu:///system version 2>&1 || true) |
        sed -n 's/^Running hypervisor: //p')
      [ -n "$ans" ] || ans="NOT ANSWERING"
    fi
    printf '%-4s %-10s %-12s %-5s %-8s %s\n' "$h" "$ns" "$(addr_of "$h")" "${link:-none}" "$pid" "$ans"
  done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  exec) [ $# -ge 2 ] || die "usage: exec hI CMD..."; host_exec "$@" ;;
  outside) [ $# -ge 1 ] || die "usage: outside CMD..."; ns_exists "$OUT_NS" || die "no $OUT_NS (run up)"; exec ip netns exec "$OUT_NS" "$@" ;;
  power-off) [ $# = 1 ] || die "usage: power-off hI"; need_host "$1"; power_off "$1" ;;
  power-on) [ $# = 1 ] || die "usage: power-on hI"; power_on "$1" ;;
  partition) [ $# = 1 ] || die "usage: partition hI"; need_host "$1"; ip link set "shlab-$1" down; echo "$1: partitioned" ;;
  heal) [ $# = 1 ] || die "usage: heal hI"; need_host "$1"; ip link set "shlab-$1" up; echo "$1: healed" ;;
  env) [ $# = 1 ] || die "usage: env hI"; need_host "$1"; cat "$(hostdir "$1")/host.env" ;;
  *) sed -n '2,16s/^# \{0,1\}//p' "$0"; [ -z "$cmd" ] || [ "$cmd" = help ] || exit 2 ;;
esac
