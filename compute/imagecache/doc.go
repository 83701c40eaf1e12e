// Package imagecache keeps this node's copies of image data, content-addressed:
// the data whose sha256 is S lives in the file Dir/S. A file appears there only
// complete and verified (written to a temporary file, synced, then renamed), so
// a file that exists is always good.
//
// Data enters the cache in two ways. Put stores an upload (the API's
// PUT /v1/images/{id}/file) after checking it is what its disk format says:
// qcow2 with no backing file and no external data file (either could make a
// guest read host files), or raw that is not a qcow2 in disguise. Path, the
// compute.ImageCache a driver calls, returns the local file of an image and,
// when this node has none, fetches it from a node listed in the image's
// Locations (GET https://NODE/internal/v1/images/{id}/file, as this node: the
// HTTP client given presents its node certificate, which that route alone
// takes), verifies its checksum before it becomes visible, and records this
// node as one more location through Raft.
//
// The cache reads image records and host addresses, and records locations,
// through small interfaces it declares (Images, Peers, Recorder), so it is
// tested without a cluster.
package imagecache
