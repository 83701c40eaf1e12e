// Package osapi holds what the OpenStack API modules (nova, glance,
// neutron) share and no /v1 handler needs: Nova's microversion negotiation,
// each service's error body, OpenStack's time format and links, and the IDs
// OpenStack shapes need that shoal's state does not store, derived from
// replicated data only so every node answers with the same ones.
package osapi
