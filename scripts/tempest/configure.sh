#!/usr/bin/env bash
# configure.sh WORKSPACE: makes WORKSPACE (a directory outside the clone) a
# Tempest workspace for the shoal cluster whose admin the environment holds:
# source the cluster's admin-openrc first (OS_AUTH_URL, OS_CACERT,
# SHOAL_ADDR; scripts/local-cluster.sh writes .lab/local/n1/data/admin-openrc).
# Safe to run again on the same cluster: it reuses what exists and sets new
# passwords.
#
# Through the cluster's Keystone (the shoal CLI) it makes the pre-provisioned
# accounts Tempest runs as (use_dynamic_credentials=false): four users, each
# member of a project of its own (two per worker at concurrency 2: primary
# and alt), and two admins. It uploads the tiny guest image twice (image_ref
# and image_ref_alt, for rebuild), makes two small flavors, reads the
# maximum compute microversion the cluster advertises (GET /compute/v2.1/),
# and writes WORKSPACE/etc/tempest.conf and etc/accounts.yaml (0600: they
# hold the passwords).
#
# What Tempest is told (see the survey, notes §3.4): Nova and Glance on,
# Neutron, Cinder, Swift and Placement off (Tempest's compute tests would use
# nova-network proxies or volumes shoal does not serve); no SSH validation;
# the features shoal has (console output, pause, suspend, config drive,
# metadata service) on, the ones it lacks (resize, migration, shelve,
# rescue, snapshot, consoles, interface attach) off.
#
# Environment: SHOAL (the shoal binary; default bin/shoal, built if
# missing), SHOAL_TINY_IMAGE (default .lab/images/shoal-tiny.qcow2, built if
# missing), SHOAL_TEMPEST_MAX_MICROVERSION (overrides what the cluster
# advertises), SHOAL_TEMPEST_COMPUTE_NODES (default 3),
# SHOAL_TEMPEST_BUILD_TIMEOUT (default 120 s: how long Tempest waits for a
# status; a server is ACTIVE within seconds under TCG, and a test waiting
# for what never comes, a missing feature, should not cost 5 minutes).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WS=${1:?usage: configure.sh WORKSPACE}
: "${OS_AUTH_URL:?source admin-openrc of the cluster first}"
: "${SHOAL_ADDR:?source admin-openrc of the cluster first (it sets SHOAL_ADDR)}"
log() { printf 'tempest configure: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# quiet CMD...: runs CMD with its output (a password prompt) in $out.
quiet() { out=$("$@" 2>&1); }

SHOAL=${SHOAL:-$ROOT/bin/shoal}
[ -x "$SHOAL" ] || { build_shoal && SHOAL=$ROOT/bin/shoal; }
IMAGE=${SHOAL_TINY_IMAGE:-$ROOT/.lab/images/shoal-tiny.qcow2}
[ -f "$IMAGE" ] || "$ROOT/scripts/build-tiny-image.sh" "$IMAGE"
command -v tempest >/dev/null || die "tempest is missing: run scripts/setup-openstack-clients.sh"

mkdir -p "$WS"
WS=$(cd "$WS" && pwd)
shoal() { XDG_CACHE_HOME=$WS/shoal-cache "$SHOAL" "$@"; } # its token cache in the workspace
# json_field KEY...: the value at the path KEY... of the JSON on stdin.
json_field() { /usr/bin/python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1:]: v=v[k]
print(v)' "$@"; }

if [ ! -f "$WS/.stestr.conf" ]; then
	# The workspace registry stays in the workspace: nothing in ~/.tempest.
	# tempest init wants an empty directory and says nothing when it is not.
	[ -z "$(ls -A "$WS")" ] || die "$WS is neither empty nor a Tempest workspace"
	# Tempest's commands log to ./tempest.log (Debian's /etc/tempest), so
	# it runs in a directory of its own, neither the caller's nor $WS.
	scratch=$(mktemp -d)
	(cd "$scratch" && tempest init --workspace-path "$WS/workspaces.yaml" --name "shoal-$(basename "$WS")-$$" "$WS" >/dev/null)
	rm -rf "$scratch"
fi
mkdir -p "$WS/etc" "$WS/logs" "$WS/locks"

# Accounts: a project each, fresh passwords, read from stdin by the CLI
# (never on a command line).
umask 077
accounts=$WS/etc/accounts.yaml
: >"$accounts"
account() { # USER PROJECT ROLE TYPE
	local password
	password=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
	quiet shoal project show "$2" || quiet shoal project create "$2" --description "Tempest" || die "project create $2: $out"
	local verb=create
	quiet shoal user show "$1" && verb="set"
	quiet shoal user "$verb" "$1" --project "$2" --password-prompt <<<"$password" || die "user $verb $1: $out"
	quiet shoal role add "$3" --project "$2" --user "$1" || die "role add $3 on $2 to $1: $out"
	last_password=$password
	[ "$4" = identity ] && return 0 # not in accounts.yaml: no test runs as it
	cat >>"$accounts" <<EOF
- username: '$1'
  project_name: '$2'
  password: '$password'
  user_domain_name: 'Default'
  project_domain_name: 'Default'
  resources:
    network: 'default'
EOF
	[ "$4" = admin ] && echo "  types: ['admin']" >>"$accounts"
	return 0
}
for i in 1 2 3 4; do account "tempest-user$i" "tempest-project$i" member primary; done
for i in 1 2; do account "tempest-admin$i" "tempest-admin-project$i" admin admin; done
# The identity admin of [auth]: the classes with force_tenant_isolation
# (QuotasAdminTest*) make accounts of their own through Keystone even
# without dynamic credentials, and fail in setUpClass without one. It is
# not in accounts.yaml, so no test runs as it.
account tempest-identity-admin tempest-identity-admin-project admin identity
identity_admin_password=$last_password
umask 022
log "accounts: 4 members and 2 admins in etc/accounts.yaml, an identity admin in [auth]"

# The external network Tempest's floating IPs come from (Nova's
# os-floating-ips pool, by name; its ID is public_network_id).
shoal network show tempest-public >/dev/null 2>&1 ||
	shoal network create tempest-public --external --cidr 10.99.0.0/24 --gateway 10.99.0.1 \
		--allocation-pool start=10.99.0.100,end=10.99.0.200 >/dev/null || die "external network tempest-public"
public_net=$(shoal network show tempest-public -o json | json_field network id) || die "external network tempest-public"

# Images: the tiny guest, public, twice (rebuild needs another image).
image_id() { # NAME
	local id
	id=$(shoal image show "$1" -o json 2>/dev/null | json_field image id 2>/dev/null) ||
		id=$(shoal image create "$1" --file "$IMAGE" --disk-format qcow2 --public -o json 2>/dev/null | json_field image id)
	echo "$id"
}
image_ref=$(image_id tempest-tiny)
image_ref_alt=$(image_id tempest-tiny-alt)

# Flavors: small ones (the tiny guest boots in 256 MiB under TCG).
flavor_id() { # ID NAME RAM
	shoal flavor show "$1" >/dev/null 2>&1 ||
		shoal flavor create "$2" --id "$1" --vcpus 1 --ram "$3" --disk 1 >/dev/null
	echo "$1"
}
flavor_ref=$(flavor_id 42 tempest.nano 256)
flavor_ref_alt=$(flavor_id 84 tempest.micro 320)

# The highest compute microversion the cluster advertises.
max=${SHOAL_TEMPEST_MAX_MICROVERSION:-}
if [ -z "$max" ]; then
	if max=$(curl -fsS --cacert "$OS_CACERT" "$SHOAL_ADDR/compute/v2.1/" 2>/dev/null | json_field version version 2>/dev/null) && [ -n "$max" ]; then
		log "the cluster advertises compute microversions 2.1 to $max"
	else
		log "no version document at $SHOAL_ADDR/compute/v2.1/: max_microversion 2.1"
		max=2.1
	fi
fi

cat >"$WS/etc/tempest.conf" <<EOF
# Written by scripts/tempest/configure.sh for the cluster at $SHOAL_ADDR.
[DEFAULT]
log_dir = $WS/logs
log_file = tempest.log

[oslo_concurrency]
lock_path = $WS/locks

[auth]
use_dynamic_credentials = false
test_accounts_file = $accounts
admin_username = tempest-identity-admin
admin_password = $identity_admin_password
admin_project_name = tempest-identity-admin-project
admin_domain_name = Default
default_credentials_domain_name = Default
create_isolated_networks = false

[identity]
uri_v3 = $OS_AUTH_URL
auth_version = v3
region = RegionOne
v3_endpoint_type = public
ca_certificates_file = ${OS_CACERT:-}
disable_ssl_certificate_validation = false
admin_role = admin

[identity-feature-enabled]
api_v2 = false
api_v3 = true

[service_available]
nova = true
glance = true
neutron = false
cinder = false
swift = false
horizon = false
placement = false

[compute]
image_ref = $image_ref
image_ref_alt = $image_ref_alt
flavor_ref = $flavor_ref
flavor_ref_alt = $flavor_ref_alt
# No fixed_network_name: with Neutron off Tempest would look it up through
# Nova's os-networks proxy, which is gone from 2.36, at the test class's
# microversion. Each account names its network instead (resources: network
# in accounts.yaml), which Tempest finds through the network API: the shared
# tenant network every server is on.
min_compute_nodes = ${SHOAL_TEMPEST_COMPUTE_NODES:-3}
min_microversion = 2.1
max_microversion = $max
build_timeout = ${SHOAL_TEMPEST_BUILD_TIMEOUT:-120}
region = RegionOne
endpoint_type = publicURL

[compute-feature-enabled]
console_output = true
pause = true
suspend = true
config_drive = true
metadata_service = true
enable_instance_password = true
resize = false
cold_migration = false
live_migration = false
block_migration_for_live_migration = false
shelve = false
shelve_migrate = false
snapshot = false
rescue = false
stable_rescue = false
change_password = false
interface_attach = false
personality = false
vnc_console = false
spice_console = false
serial_console = false
disk_config = false
xenapi_apis = false
nova_cert = false
unified_limits = false
volume_multiattach = false
attach_encrypted_volume = false
hostname_fqdn_sanitization = false
scheduler_enabled_filters = ComputeFilter,AvailabilityZoneFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter

[network]
floating_network_name = tempest-public
public_network_id = $public_net

[network-feature-enabled]
# Tempest's compute floating IP tests drive Nova's os-floating-ips proxy
# (gone at 2.36) and the addFloatingIp action (gone at 2.44), which the
# compute module serves over shoal's floating IPs.
floating_ips = true

[image]
region = RegionOne
endpoint_type = publicURL
# The formats of images Tempest uploads itself (FlavorsV2NegativeTest's
# min_ram image: random bytes, the first format of each list). shoal's
# Glance takes image data only in the disk formats a node can boot and
# checks it (qcow2 must be qcow2), so name those, raw first.
disk_formats = raw,qcow2
container_formats = bare,ovf

[image-feature-enabled]
api_v2 = true
api_v1 = false

[validation]
run_validation = false
EOF
chmod 600 "$WS/etc/tempest.conf" # [auth] holds the identity admin's password
log "wrote $WS/etc/tempest.conf (image $image_ref, flavor $flavor_ref, microversions 2.1-$max)"
