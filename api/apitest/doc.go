// Package apitest is the fixture of tests of code mounted on the API (the
// OpenStack modules): a fake cluster over a real FSM, an api.Server with
// given modules behind a TLS httptest server, seeds (hosts, images,
// networks, flavors, tenants) applied as fsm commands, requests with a
// token, and a gophercloud client logged in through the node's Keystone.
// It uses only the api package's exported surface, as a module does.
package apitest
