// Package neutron serves OpenStack Networking's API v2.0 (Neutron), the
// subset shoal's networking has objects for, under /networking: networks
// and their one subnet each, ports (read only, one per server fixed IP),
// floating IPs, security groups and rules, quotas and the extension list.
// It only decodes and renders: every lookup, tenancy check, validation
// and command is api.Ops's, the code /v1 runs, so the two cannot drift
// apart. IDs shoal does not store (the tenant network's, subnets', ports')
// come from osapi's derivations of replicated data, so every node and
// every restart names them alike.
package neutron
