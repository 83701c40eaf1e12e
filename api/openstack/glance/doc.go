// Package glance serves OpenStack's Image API v2 (Glance's shapes, status
// codes and error bodies) under /image, over the same api.Ops the native
// /v1 image routes use: it only decodes requests and renders answers, so
// tenancy, validation, the upload's format checks and every fsm command
// keep their one home in package api.
//
// Where Glance and /v1 differ the module passes Glance's choice explicitly
// (a new image is shared unless told otherwise; the checksum is the MD5,
// the sha256 is os_hash_value), and it is lenient where Glance is: an
// unknown list parameter is a filter on image properties, never an error.
package glance
