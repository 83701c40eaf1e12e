#!/usr/bin/env bash
# Checks the Vagrant lab's Vagrantfile with `vagrant validate`, which needs no
# box and starts no VM: with the defaults (the public Debian box) and as the
# locally built box will be used. Installs vagrant and vagrant-libvirt with
# apt-get when missing: vagrant alone cannot validate this file (it knows no
# provider for the libvirt settings). Also checks that provisioning without a
# built binary stops at once with a clear message.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf 'vagrant-validate: %s\n' "$*"; }

if ! command -v vagrant >/dev/null || ! dpkg-query -W -f='${Status}' vagrant-libvirt 2>/dev/null | grep -q 'install ok installed'; then
	if [[ $EUID -ne 0 ]]; then
		log "vagrant and vagrant-libvirt are missing; run as root to install them" >&2
		exit 1
	fi
	log "installing vagrant and vagrant-libvirt"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends vagrant vagrant-libvirt >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends vagrant vagrant-libvirt >/dev/null; }
fi

# No version checks against HashiCorp's servers; VAGRANT_CWD pins the Vagrantfile.
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_CWD="$ROOT"

run() { # description, then env assignments and the vagrant command
	local what=$1; shift
	log "$what"
	env "$@"
}

run "defaults (SHOAL_VAGRANT_BOX=debian/bookworm64, 3 nodes)" vagrant validate
run "local box" SHOAL_VAGRANT_BOX=shoal/bookworm-local SHOAL_VAGRANT_NODES=3 vagrant validate

log "provisioning without a binary is refused before any VM is touched"
if out=$(SHOAL_VAGRANT_BINARY="$ROOT/.vagrant/no-such-shoal" vagrant provision 2>&1); then
	log "vagrant provision succeeded without a binary" >&2
	exit 1
fi
grep -q 'make build' <<<"$out" || { log "unexpected failure: $out" >&2; exit 1; }
log "ok"
