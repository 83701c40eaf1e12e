package nova

import (
	"github.com/shoal-project/shoal/api"
)

// registerServers adds /servers and everything under it. Access follows
// Nova's default policies: reading a server is a project reader's, changing
// one a member's; what only an admin may do inside a route (resetState,
// evacuate, all_tenants, the host filter) is checked there, with Nova's
// policy message.
func (m *Module) registerServers(r api.Router) {
	reader, member := api.AccessProjectReader, api.AccessProjectMember
	m.route(r, "GET /servers", reader, m.listServers)
	m.route(r, "GET /servers/detail", reader, m.listServersDetail)
	m.route(r, "POST /servers", member, m.createServers)
	m.route(r, "GET /servers/{id}", reader, m.showServer)
	m.route(r, "PUT /servers/{id}", member, m.updateServer)
	m.route(r, "DELETE /servers/{id}", member, m.deleteServer)
	m.route(r, "POST /servers/{id}/action", member, m.serverAction)

	m.route(r, "GET /servers/{id}/metadata", reader, m.listMetadata)
	m.route(r, "PUT /servers/{id}/metadata", member, m.replaceMetadata)
	m.route(r, "POST /servers/{id}/metadata", member, m.mergeMetadata)
	m.route(r, "GET /servers/{id}/metadata/{key}", reader, m.showMetadatum)
	m.route(r, "PUT /servers/{id}/metadata/{key}", member, m.setMetadatum)
	m.route(r, "DELETE /servers/{id}/metadata/{key}", member, m.deleteMetadatum)

	m.route(r, "GET /servers/{id}/ips", reader, m.listIPs)
	m.route(r, "GET /servers/{id}/ips/{network}", reader, m.showIPs)

	m.route(r, "GET /servers/{id}/os-interface", reader, m.listInterfaces)
	m.route(r, "GET /servers/{id}/os-interface/{port}", reader, m.showInterface)
	m.route(r, "POST /servers/{id}/os-interface", member, m.attachInterface)
	m.route(r, "DELETE /servers/{id}/os-interface/{port}", member, m.detachInterface)

	m.route(r, "GET /servers/{id}/os-instance-actions", reader, m.listInstanceActions)
	m.route(r, "GET /servers/{id}/os-instance-actions/{request}", reader, m.showInstanceAction)

	m.registerServerTags(r)

	m.route(r, "GET /servers/{id}/os-server-password", reader, m.showServerPassword)
	m.route(r, "DELETE /servers/{id}/os-server-password", member, m.clearServerPassword)
}
