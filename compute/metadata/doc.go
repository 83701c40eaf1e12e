// Package metadata is what a guest learns about itself: the metadata
// service (169.254.169.254) and the config drive, in the shapes Nova serves
// and cloud-init reads.
//
//   - Instance is the view: a server as its metadata shows it, built from
//     the replica by FromFSM. Everything rendered comes from it alone.
//   - Lookup renders one path of the OpenStack tree (/openstack/...) or the
//     EC2 tree (/latest/meta-data/...), as Nova's base.py does; DriveFiles
//     is the same content as the files of a config drive, and ConfigDrive
//     writes them into an ISO 9660 image labelled config-2 (Rock Ridge
//     names, as Nova's genisoimage -r makes them). Pure: golden tests.
//   - Handler serves Lookup over HTTP to the guests of this host only. A
//     request is tied to its instance by its source IP (a fixed IP of a
//     guest this host runs) and the MAC the host's neighbour table holds for
//     that IP on the tenant bridge (Resolver), which must be the guest
//     port's. Anything else is refused: a caller never reads another guest's
//     data. Each guest has its own token bucket (429 when empty).
//   - Server listens on the tenant gateway at this node's metadata port;
//     compute/network's nftables rules DNAT 169.254.169.254:80 from the
//     guests to it.
package metadata
