#!/usr/bin/env bash
# setup-openstack-clients.sh installs Debian's OpenStack clients, the real
# clients shoal's OpenStack APIs are proven with: python3-openstackclient
# (the `openstack` CLI 6.0, with openstacksdk 0.101 and novaclient 18.1) for
# the CLI end-to-end test (cmd/shoal/e2e_openstack_test.go), and tempest
# (33.0, with stestr and subunit) for scripts/tempest/. Safe to run again:
# it installs only what is missing. Without recommends: those pull in GTK and
# gnome-keyring (about 50 packages more), which no test needs. On bookworm:
# 108 packages, 12 MB to download, 77 MB installed, about 45 s.
set -euo pipefail

packages=(python3-openstackclient tempest)

log() { printf 'setup-openstack-clients: %s\n' "$*"; }

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	log "already installed: $(dpkg-query -W -f='${Package} ${Version}  ' python3-openstackclient python3-openstacksdk python3-novaclient tempest)"
	exit 0
fi
if [[ $EUID -ne 0 ]]; then
	log "missing ${missing[*]}: run as root, or apt-get install --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
	{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
log "installed: $(dpkg-query -W -f='${Package} ${Version}  ' python3-openstackclient python3-openstacksdk python3-novaclient tempest)"
