#!/usr/bin/env bash
# Brings up a local 3-node shoal cluster on loopback, or takes it down.
#   scripts/local-cluster.sh [up|down|status|cloud-image]
# n1 bootstraps the cluster (its CA, its admin). The two ways to join a host
# are both shown, each with a single-use join token the admin makes with
# `shoal cluster join-token create`: n2 starts with --join and --join-token
# (one command); n3 starts blank and waits until `shoal join --token` on its
# host hands it the token through the socket in its data dir. Everything is
# secured: HTTPS API, mutual TLS between nodes, encrypted gossip. Data and
# logs live in .lab/local/. Every CLI call runs as the cluster's admin, with
# n1's admin-openrc sourced (https URLs, OS_CACERT), as a user would. The
# nodes use the libvirt driver (all three on this machine's libvirtd, each
# seeing only its own domains); SHOAL_DRIVER=fake runs them without libvirt.
# `up` then uploads the tiny guest image, boots a server through a follower,
# and prints the server list and the guest's console tail. `cloud-image`, on
# a cluster that is up, boots the Debian cloud image
# (scripts/build-cloud-image.sh, root and a few minutes the first time, then
# cached) with a generated keypair and user data, waits for cloud-init, and
# logs in over ssh to its fixed IP, which this machine reaches.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LAB="$ROOT/.lab/local"
SHOAL="$ROOT/bin/shoal"
DRIVER=${SHOAL_DRIVER:-libvirt}
IMAGE="$ROOT/.lab/images/shoal-tiny.qcow2"

http_port() { echo $((8773 + $1)); }
gossip_port() { echo $((7936 + 10 * $1)); }
raft_port() { echo $((7937 + 10 * $1)); }
# The metadata service's port on the tenant gateway: the three agents share
# this machine's bridge, so each takes its own (the default, 8775, is one).
metadata_port() { echo $((8784 + $1)); }
OPENRC="$LAB/n1/data/admin-openrc" # written by n1 when it bootstraps
# api I ARGS...: the CLI against node I as the cluster's admin; tokens are
# cached in the lab's dir, not the user's.
api() {
  (
    if [ -f "$OPENRC" ]; then . "$OPENRC"; fi
    XDG_CACHE_HOME="$LAB/cache" "$SHOAL" --addr "https://127.0.0.1:$(http_port "$1")" "${@:2}"
  )
}
# listening I: node I accepts connections on its API port.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$(http_port "$1")") 2>/dev/null; }
# waiting I: node I, blank, listens on the socket in its data dir.
waiting() { [ -S "$LAB/n$1/data/shoal.sock" ]; }

start_node() { # i [flags...]
  local i=$1; shift
  mkdir -p "$LAB/n$i"
  "$SHOAL" agent --name "n$i" --data-dir "$LAB/n$i/data" --driver "$DRIVER" \
    --http-port "$(http_port "$i")" --gossip-port "$(gossip_port "$i")" --raft-port "$(raft_port "$i")" \
    --metadata-port "$(metadata_port "$i")" \
    "$@" >"$LAB/n$i/agent.log" 2>&1 &
  echo $! >"$LAB/n$i/pid"
}

# wait_node I CHECK: until CHECK I holds, or node I has died.
wait_node() {
  local i=$1
  for _ in $(seq 300); do
    "$2" "$i" && return 0
    kill -0 "$(cat "$LAB/n$i/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "n$i did not start; see $LAB/n$i/agent.log:" >&2
  tail -5 "$LAB/n$i/agent.log" >&2
  exit 1
}

down() {
  # Delete the servers through the API first, so no domain or disk outlives
  # the cluster, then stop the agents.
  if [ -x "$SHOAL" ] && api 1 server list >/dev/null 2>&1; then
    for id in $(api 1 server list -o json | grep -o '"id": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'); do
      api 1 server delete "$id" --wait >/dev/null 2>&1 || true
    done
  fi
  for p in "$LAB"/n*/pid; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
  done
  sleep 1
  # A stopped agent leaves its data plane in place (its guests would keep
  # running); with the guests deleted, each node's nftables tables, floating
  # IPs and routes go too, from this machine's namespace (root only).
  if [ "$DRIVER" = libvirt ] && [ -x "$SHOAL" ]; then
    for d in "$LAB"/n*/data; do
      [ -d "$d" ] || continue
      n=$(basename "$(dirname "$d")")
      "$SHOAL" network-reset --name "$n" --data-dir "$d" --routes >/dev/null ||
        echo "shoal network-reset --name $n failed (it needs root)" >&2
    done
  fi
  if command -v virsh >/dev/null; then
    # Each node's storage pool (shoal-nI-<hash of its dir>) points into .lab/local.
    for pool in $(virsh -q -c qemu:///system pool-list --all --name 2>/dev/null | awk '{print $1}' | grep -E '^shoal-n[123]-[0-9a-f]{8}$' || true); do
      virsh -q -c qemu:///system pool-destroy "$pool" >/dev/null 2>&1 || true
      virsh -q -c qemu:///system pool-undefine "$pool" >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$LAB"
}

up() {
  down
  if [ "$DRIVER" = libvirt ]; then
    "$ROOT/scripts/setup-libvirt.sh"
  fi
  "$ROOT/scripts/build-tiny-image.sh" "$IMAGE"
  build_shoal
  start_node 1 --bootstrap
  wait_node 1 listening
  for _ in $(seq 100); do # n1 has bootstrapped the cluster and its admin
    api 1 token issue >/dev/null 2>&1 && break
    sleep 0.2
  done
  # One command: the new node trades its token for a certificate, then joins.
  local token
  token=$(api 1 cluster join-token create)
  echo "n2: shoal agent --join 127.0.0.1:$(gossip_port 1) --join-token \$(shoal cluster join-token create)"
  start_node 2 --join "127.0.0.1:$(gossip_port 1)" --join-token "$token"
  wait_node 2 listening
  # A blank node: it waits on DATA_DIR/shoal.sock until joined on its host.
  echo "n3: shoal agent (blank), then: shoal join --token \$(shoal cluster join-token create) --data-dir $LAB/n3/data"
  start_node 3
  wait_node 3 waiting
  token=$(api 1 cluster join-token create)
  "$SHOAL" join --token "$token" --data-dir "$LAB/n3/data"
  wait_node 3 listening
  for _ in $(seq 100); do # every node alive, holding its lease (not fenced)
    members=$(api 1 members -o json 2>/dev/null || true)
    alive=$(grep -o '"status": *"alive"' <<<"$members" | wc -l)
    unfenced=$(grep -o '"fenced": *false' <<<"$members" | wc -l)
    [ "$alive" = 3 ] && [ "$unfenced" = 3 ] && break
    sleep 0.2
  done
  echo
  api 1 members
  echo
  api 1 image create tiny --file "$IMAGE" --disk-format qcow2 --public >/dev/null
  # Forced onto n3: the image was uploaded to n1, so n3 fetches it from its peer.
  api 2 server create demo --flavor m1.tiny --image tiny --availability-zone nova:n3 --wait
  echo
  api 1 server list
  if [ "$DRIVER" = libvirt ]; then
    echo
    echo "waiting for the guest to boot (under TCG this takes a few seconds) ..."
    for _ in $(seq 120); do
      api 1 server console-log demo 2>/dev/null | grep -q 'shoal-tiny: boot done' && break
      sleep 1
    done
    echo "console of demo (shoal-tiny lines):"
    api 1 server console-log demo | tr -d '\r' | grep 'shoal-tiny:' | sed 's/^/  | /'
  fi
  echo
  echo "API: https://127.0.0.1:8774 (n1), :8775 (n2), :8776 (n3); their certificates come from the cluster CA"
  echo "in $LAB/n1/data/tls/ca.crt. The cluster's admin credentials (and OS_CACERT) are in $OPENRC."
  echo "Use them as with OpenStack:"
  echo "  source $OPENRC"
  echo "  bin/shoal server list"
  echo "Stop with: scripts/local-cluster.sh down"
}

# cloud_image: the Debian cloud image on the running cluster, configured by
# cloud-init from the metadata service with the keypair mykey (its private
# key in .lab/local/mykey) and a user-data script, then an ssh login.
cloud_image() {
  local image="$ROOT/.lab/images/shoal-debian-cloud.qcow2" key="$LAB/mykey" ip=""
  [ "$DRIVER" = libvirt ] || { echo "cloud-image needs the libvirt driver" >&2; exit 1; }
  api 1 members >/dev/null 2>&1 || { echo "no cluster: run $0 up first" >&2; exit 1; }
  "$ROOT/scripts/build-cloud-image.sh" "$image"
  api 1 image show debian-cloud >/dev/null 2>&1 ||
    api 1 image create debian-cloud --file "$image" --disk-format qcow2 >/dev/null
  api 1 keypair show mykey >/dev/null 2>&1 || api 1 keypair create mykey --private-key "$key"
  # shellcheck disable=SC2016 # $(hostname) runs in the guest
  printf '#!/bin/sh\necho "user data ran on $(hostname)" >/dev/console\n' >"$LAB/user-data.sh"
  api 1 server delete cloud --wait >/dev/null 2>&1 || true
  api 2 server create cloud --flavor m1.tiny --image debian-cloud --key-name mykey --user-data "$LAB/user-data.sh" --wait
  echo "waiting for cloud-init (under TCG 1-2 min) ..."
  for _ in $(seq 600); do
    api 1 server console-log cloud 2>/dev/null | grep -q 'Cloud-init v\. .* finished' && break
    sleep 1
  done
  api 1 server console-log cloud | tr -d '\r' | grep -E 'user data ran|ci-info: .*(Authorized keys|ssh-ed25519)|Cloud-init v\. .* finished' | sed 's/^/  | /'
  ip=$(api 1 server show cloud -o json | grep -o '"ip": *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
  echo "ssh -i $key debian@$ip"
  for _ in $(seq 30); do # sshd may come up a little after cloud-init's end
    ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 \
      "debian@$ip" 'echo "logged in to $(hostname) as $(id -un)"' && return 0
    sleep 2
  done
  echo "ssh to $ip failed" >&2
  exit 1
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) api 1 members && api 1 server list ;;
  cloud-image) cloud_image ;;
  *) echo "usage: $0 [up|down|status|cloud-image]" >&2; exit 2 ;;
esac
