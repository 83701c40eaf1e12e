// Package lab drives real shoal agents on the network-namespace lab
// (scripts/lab/netns-lab.sh): hosts h1..hN on one machine, each with its own
// libvirtd, which the tests power off, partition and heal while a Checker
// samples every host's libvirt domains and records any instance running on
// two hosts at once or any fixed IP held twice by running domains (a paused
// domain, such as a live migration's incoming one, runs nothing; a round's
// suspicion is confirmed by listing both hosts again: see Checker). The cluster runs secured as
// everywhere: h1 bootstraps, its admin makes a join token with the CLI, the
// other hosts join with it, and the harness speaks HTTPS trusting the cluster
// CA that h1's admin-openrc names.
//
// The harness itself has no build tag; the failover scenarios of issue 5
// that use it are behind the `lab` tag because they need root, libvirt and
// minutes (each brings the lab up once, then runs its trials, ~17 s each):
//
//	go test -tags lab -timeout 2h -run 'TestLab' ./lab/ -v
//	go test -tags lab -timeout 1h -run 'TestLabPartition$' ./lab/ -v
//	go test -tags lab -run 'TestHarness$' ./lab/ -v  # the lab itself, 25 s
//	go test -tags lab -run 'TestLabGuest$' ./lab/ -v # a tiny guest, 35 s
//
// Guests that the network scenarios drive (guest.go) boot from the tiny
// image (scripts/build-tiny-image.sh): Guest.Run types a command into the
// guest's serial console and reads its output and exit status back from the
// console log; Lab.Outside runs a command in the outside namespace
// (shlab-out), and Host.Exec one inside a host.
//
// TestLabNetwork runs issue 12's data plane on two tiny guests in one lab,
// scenario after scenario (east-west, egress, floating IP, security group
// change, anti-spoof, floating IP failover); the outside namespace's probes
// are Go sockets made in shlab-out (outside.go), so a probe's start is
// known to the millisecond.
//
//	go test -tags lab -run 'TestLabNetwork$' ./lab/ -v
//
// TestLabMetadata runs issue 13 in one lab: tiny guests read their own
// metadata (Guest.HTTPGet of 169.254.169.254, both formats) and none of
// another's, a spoofed source gets no answer, and the Debian cloud image
// (scripts/build-cloud-image.sh; cloud.go reads cloud-init's console
// output) is configured by cloud-init with a generated keypair and user
// data, once from the metadata service and once from a config drive, and
// logged into over ssh; the metadata follows a guest through failover.
//
//	go test -tags lab -timeout 40m -run 'TestLabMetadata$' ./lab/ -v
//
// TestLabMigration runs issue 15 in one lab (migration_test.go,
// migration_kill_test.go): a tiny guest with a floating IP live-migrated
// round the hosts SHOAL_LAB_TRIALS times idle and as many times writing its
// memory (migration time from the API call to ACTIVE on the new host;
// downtime, the longest gap between the replies to the outside's pings of
// its floating IP every 10 ms, Lab.PingEvery and LongestGap), a cold
// migration confirmed, a resize reverted, a host drained, and the source
// host, the target host and the leader's agent killed mid live migration.
// The hosts' libvirtds listen on TCP for each other (netns-lab.sh's
// SHLAB_TCP=1, which the harness always sets) and the agents get
// --migration-uri MigrationURI when the binary knows the flag (the test
// skips itself, once the lab is up, when it does not: migrations between lab
// hosts need it).
//
//	go test -tags lab -timeout 30m -run 'TestLabMigration$' ./lab/ -v
//	go test -tags lab -timeout 30m -run 'TestLabMigration$/live$' ./lab/ -v # one scenario (after the setup)
//
// TestLabPowerOff, TestLabPartition, TestLabLeaderKill, TestLabNetwork,
// TestLabMetadata and TestLabMigration print their figures as lines
// starting "lab: ". SHOAL_LAB_TRIALS sets the trials per scenario (default
// 10) and SHOAL_BIN a prebuilt binary (default: built once from
// ./cmd/shoal). On failure the agents' and fence guards' logs are kept
// in .lab/lab-logs/<test>/.
//
// The lab is one per machine (bridge shlab0, 10.99.0.0/24): the harness takes
// a lock on $TMPDIR/shoal-netns-lab.lock, so two test runs never tear down
// each other's hosts, and it runs `netns-lab.sh down` before and after.
package lab
