package imagecache

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Disk formats the cache stores. Glance knows more (vmdk, vhd, iso...), but
// only these two are checked and booted.
const (
	FormatQCOW2 = "qcow2"
	FormatRaw   = "raw"
)

// Supported reports whether format can be uploaded and cached.
func Supported(format string) bool { return format == FormatQCOW2 || format == FormatRaw }

// headSize is what Put reads before writing anything: the largest qcow2
// cluster (2 MiB), since the header and its extensions live in the first one.
const headSize = 2 << 20

const (
	qcow2Magic = "QFI\xfb"

	qcow2V2HeaderLen = 72
	qcow2V3HeaderLen = 104

	// Incompatible feature bits (version 3).
	qcow2Dirty             = 1 << 0
	qcow2Corrupt           = 1 << 1
	qcow2DataFile          = 1 << 2
	qcow2Compression       = 1 << 3
	qcow2ExtendedL2        = 1 << 4
	qcow2KnownIncompatible = qcow2Dirty | qcow2Corrupt | qcow2DataFile | qcow2Compression | qcow2ExtendedL2

	// Header extension types.
	qcow2ExtEnd      = 0
	qcow2ExtDataFile = 0x44415441
	qcow2ExtCrypto   = 0x0537be77

	minClusterBits = 9
	maxClusterBits = 21
)

// checkFormat checks that head, the first bytes of an image (all of it when
// shorter than headSize), is data of the declared format that is safe to
// give a guest. Errors wrap ErrInvalidImage.
func checkFormat(head []byte, declared string) error {
	isQCOW2 := bytes.HasPrefix(head, []byte(qcow2Magic))
	switch declared {
	case FormatRaw:
		if len(head) == 0 {
			return fmt.Errorf("%w: the image is empty", ErrInvalidImage)
		}
		if isQCOW2 {
			// Booted as raw, the guest would see (and could rewrite) a qcow2
			// header; anything that later probes the format would trust it.
			return fmt.Errorf("%w: the data is a qcow2 image but was declared raw; declare it qcow2", ErrInvalidImage)
		}
		return nil
	case FormatQCOW2:
		if !isQCOW2 {
			return fmt.Errorf("%w: the data is not a qcow2 image (no QFI\\xfb magic); declare raw data as raw", ErrInvalidImage)
		}
		return checkQCOW2(head)
	}
	return fmt.Errorf("%w: disk format %q is not supported for upload; use qcow2 or raw", ErrInvalidImage, declared)
}

// checkQCOW2 checks a qcow2 header (as QEMU reads it) and refuses what would
// reach outside the image: a backing file, an external data file.
func checkQCOW2(head []byte) error {
	be := binary.BigEndian
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: qcow2: "+format, append([]any{ErrInvalidImage}, args...)...)
	}
	if len(head) < qcow2V2HeaderLen {
		return invalid("the header is truncated (%d bytes)", len(head))
	}
	version := be.Uint32(head[4:])
	if version != 2 && version != 3 {
		return invalid("version %d is not supported (2 or 3)", version)
	}
	if be.Uint64(head[8:]) != 0 {
		return invalid("the image names a backing file; refused, since a backing file could expose files of the host (flatten it with qemu-img convert)")
	}
	clusterBits := be.Uint32(head[20:])
	if clusterBits < minClusterBits || clusterBits > maxClusterBits {
		return invalid("cluster_bits %d is out of range (%d to %d)", clusterBits, minClusterBits, maxClusterBits)
	}
	clusterSize := int64(1) << clusterBits
	if be.Uint32(head[32:]) != 0 {
		return invalid("encrypted images are not supported")
	}
	headerLen := int64(qcow2V2HeaderLen)
	if version == 3 {
		if len(head) < qcow2V3HeaderLen {
			return invalid("the version 3 header is truncated (%d bytes)", len(head))
		}
		incompatible := be.Uint64(head[72:])
		switch {
		case incompatible&qcow2DataFile != 0:
			return invalid("the image keeps its data in an external data file; refused, since that file could be one of the host's")
		case incompatible&qcow2Corrupt != 0:
			return invalid("the image is marked corrupt (repair it with qemu-img check -r all)")
		case incompatible&^qcow2KnownIncompatible != 0:
			return invalid("unknown incompatible features %#x", incompatible&^qcow2KnownIncompatible)
		}
		headerLen = int64(be.Uint32(head[100:]))
		if headerLen < qcow2V3HeaderLen || headerLen%8 != 0 || headerLen > clusterSize {
			return invalid("header_length %d is invalid", headerLen)
		}
	}
	// Header extensions follow the header, within the first cluster. Bytes
	// past the end of a short file read as zeros: the end marker.
	for off := headerLen; off < clusterSize; {
		if off+8 > clusterSize {
			return invalid("a header extension runs past the first cluster")
		}
		if off+8 > int64(len(head)) {
			return nil
		}
		typ, length := be.Uint32(head[off:]), int64(be.Uint32(head[off+4:]))
		if length > clusterSize-(off+8) {
			return invalid("header extension %#x runs past the first cluster", typ)
		}
		switch typ {
		case qcow2ExtEnd:
			return nil
		case qcow2ExtDataFile:
			return invalid("the image names an external data file; refused, since that file could be one of the host's")
		case qcow2ExtCrypto:
			return invalid("encrypted images are not supported")
		}
		off += 8 + (length+7)/8*8
	}
	return nil
}
