package glance

import (
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Paths Glance writes in its bodies, relative to the catalog's image
// endpoint: the SDK strips their leading /v2 and joins the rest to its v2
// root, gophercloud joins them to the endpoint's unversioned base.
const (
	imagesPath        = "/v2/images"
	imageSchemaPath   = "/v2/schemas/image"
	imagesSchemaPath  = "/v2/schemas/images"
	hashAlgo          = "sha256"
	defaultVisibility = fsm.ImageShared // Glance's since Pike; /v1 keeps private
)

// baseKeys are the keys of an image view that are not properties; a
// property by one of these names can't be made (create and PATCH take them
// as the attribute), so a view never has to choose.
var baseKeys = map[string]bool{
	"id": true, "name": true, "status": true, "visibility": true, "protected": true,
	"os_hidden": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true,
	"owner": true, "size": true, "virtual_size": true, "min_ram": true, "min_disk": true,
	"disk_format": true, "container_format": true, "created_at": true, "updated_at": true,
	"tags": true, "self": true, "file": true, "schema": true, "direct_url": true,
	"locations": true, "stores": true,
}

// imageView is an image as Glance v2 renders it: its attributes and, at the
// same level, its properties. Values Glance leaves null until the data is
// uploaded (size, checksum, the hash) are null here too.
func imageView(img fsm.Image, owner *string, visibility string) map[string]any {
	v := make(map[string]any, len(img.Properties)+24)
	for k, val := range img.Properties {
		v[k] = val
	}
	var size, checksum, algo, hash any
	if img.Checksum != "" {
		size, algo, hash = img.Size, hashAlgo, img.Checksum
		if img.MD5 != "" {
			checksum = img.MD5
		}
	}
	v["id"] = img.ID
	v["name"] = img.Name
	v["status"] = img.Status
	v["visibility"] = visibility
	v["protected"] = img.Protected
	v["os_hidden"] = false
	v["checksum"] = checksum
	v["os_hash_algo"] = algo
	v["os_hash_value"] = hash
	v["owner"] = owner
	v["size"] = size
	v["virtual_size"] = nil
	v["min_ram"] = img.MinRAM
	v["min_disk"] = img.MinDisk
	v["disk_format"] = nullIfEmpty(img.DiskFormat)
	v["container_format"] = nullIfEmpty(img.ContainerFormat)
	v["created_at"] = osapi.Time(img.Created)
	v["updated_at"] = osapi.Time(img.Updated)
	v["tags"] = tagsOf(img)
	v["self"] = imagesPath + "/" + img.ID
	v["file"] = imagesPath + "/" + img.ID + "/file"
	v["schema"] = imageSchemaPath
	return v
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// tagsOf is never null: Glance shows no tags as [].
func tagsOf(img fsm.Image) []string {
	if img.Tags == nil {
		return []string{}
	}
	return img.Tags
}
