#!/usr/bin/env bash
# run.sh [smoke|full|REGEX]: runs Debian's Tempest (33.0) compute API tests
# against the shoal cluster whose admin-openrc is sourced (or named by
# SHOAL_OPENRC), then prints passed/skipped/failed per test class.
#   smoke (default): TestVersions, FlavorsV2TestJSON, ServersTestJSON and
#          ServerActionsTestJSON, a few minutes: what CI runs
#          (cmd/shoal/e2e_tempest_test.go, from scripts/test.sh).
#   full:  every tempest.api.compute test (about 570, of which about 410
#          run with this configuration and 100 skip; about 7 min under TCG on 2 cores).
#          Opt-in only, never from scripts/test.sh.
#   REGEX: what `tempest run --regex` selects.
# Example, on the local cluster:
#   scripts/local-cluster.sh up
#   . .lab/local/n1/data/admin-openrc && scripts/tempest/run.sh full
# The workspace (SHOAL_TEMPEST_DIR, default ~/.cache/shoal-tempest) lives
# outside the clone; configure.sh fills it (accounts, images, flavors,
# tempest.conf) and keeps the run (last.subunit, logs/tempest.log).
# SHOAL_TEMPEST_CONCURRENCY workers (default 2). The exit status is
# non-zero when any test failed (or Tempest did). A class's failures can be re-run
# alone: SHOAL_TEMPEST_CONCURRENCY=1 run.sh 'ServersTestJSON'.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [ -n "${SHOAL_OPENRC:-}" ]; then
	# shellcheck disable=SC1090
	. "$SHOAL_OPENRC"
fi
: "${OS_AUTH_URL:?source admin-openrc of the cluster first, or set SHOAL_OPENRC}"
command -v tempest >/dev/null || { echo "tempest is missing: run scripts/setup-openstack-clients.sh" >&2; exit 1; }

case "${1:-smoke}" in
smoke) regex='^tempest\.api\.compute\.(test_versions\.TestVersions|flavors\.test_flavors\.FlavorsV2TestJSON|servers\.test_servers\.ServersTestJSON|servers\.test_server_actions\.ServerActionsTestJSON)\.' ;;
full) regex='^tempest\.api\.compute\.' ;;
*) regex=$1 ;;
esac
WS=${SHOAL_TEMPEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shoal-tempest}
case "$(realpath -m "$WS")/" in
"$ROOT"/*) echo "SHOAL_TEMPEST_DIR must be outside the clone ($ROOT)" >&2; exit 1 ;;
esac

"$ROOT/scripts/tempest/configure.sh" "$WS"
cd "$WS"
echo "tempest run --regex '$regex' (workspace $WS)"
start=$SECONDS
# One line per test as it ends (failure details go to the summary and to
# the workspace: logs/tempest.log, and `subunit-trace --fails <last.subunit`).
set +e
tempest run --subunit --concurrency "${SHOAL_TEMPEST_CONCURRENCY:-2}" --regex "$regex" |
	tee "$WS/last.subunit" | subunit-trace --no-failure-debug --no-summary
status=${PIPESTATUS[0]}
set -e
echo
echo "Tempest took $((SECONDS - start)) s; per class:"
# With --subunit, tempest run exits 0 whatever the tests did: the summary,
# which exits 1 when one failed, decides.
/usr/bin/python3 "$ROOT/scripts/tempest/summary.py" <"$WS/last.subunit" || status=1
exit "$status"
