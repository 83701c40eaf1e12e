#!/usr/bin/env bash
# Brings up a local 3-node shoal cluster on loopback, or takes it down.
#   scripts/local-cluster.sh [up|down|status]
# n1 bootstraps, n2 starts with --join, n3 starts plain and is added with
# `shoal join`. Data and logs live in .lab/local/. Nodes use the fake driver.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LAB="$ROOT/.lab/local"
SHOAL="$ROOT/bin/shoal"

http_port() { echo $((8773 + $1)); }
gossip_port() { echo $((7936 + 10 * $1)); }
raft_port() { echo $((7937 + 10 * $1)); }

start_node() { # i [flags...]
  local i=$1; shift
  mkdir -p "$LAB/n$i"
  "$SHOAL" agent --name "n$i" --data-dir "$LAB/n$i/data" --driver fake \
    --http-port "$(http_port "$i")" --gossip-port "$(gossip_port "$i")" --raft-port "$(raft_port "$i")" \
    "$@" >"$LAB/n$i/agent.log" 2>&1 &
  echo $! >"$LAB/n$i/pid"
  for _ in $(seq 100); do
    "$SHOAL" --addr "http://127.0.0.1:$(http_port "$i")" members >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "n$i did not start; see $LAB/n$i/agent.log" >&2; exit 1
}

down() {
  for p in "$LAB"/n*/pid; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$LAB"
}

up() {
  down
  build_shoal
  start_node 1 --bootstrap
  start_node 2 --join "127.0.0.1:$(gossip_port 1)"
  start_node 3
  "$SHOAL" --addr "http://127.0.0.1:$(http_port 3)" join "127.0.0.1:$(gossip_port 1)"
  for _ in $(seq 100); do
    alive=$("$SHOAL" --addr "http://127.0.0.1:$(http_port 1)" members -o json 2>/dev/null | grep -o "\"status\":\"alive\"" | wc -l || true)
    [ "$alive" = 3 ] && break
    sleep 0.2
  done
  echo
  "$SHOAL" --addr "http://127.0.0.1:$(http_port 1)" members
  echo
  "$SHOAL" image create tiny --disk-format qcow2 --size 1048576 >/dev/null
  "$SHOAL" --addr "http://127.0.0.1:$(http_port 2)" server create demo --flavor m1.tiny --image tiny --wait
  echo
  "$SHOAL" server list
  echo
  echo "API: http://127.0.0.1:8774 (n1), :8775 (n2), :8776 (n3). Try: bin/shoal flavor list"
  echo "Stop with: scripts/local-cluster.sh down"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) "$SHOAL" --addr "http://127.0.0.1:$(http_port 1)" members ;;
  *) echo "usage: $0 [up|down|status]" >&2; exit 2 ;;
esac
