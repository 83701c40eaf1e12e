package metadata

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// DriveLabel is the config drive's volume label, which cloud-init looks for.
const DriveLabel = "config-2"

// driveEC2Versions are the EC2 versions a config drive carries: Nova skips
// the older ones (config_drive_skip_versions).
var driveEC2Versions = []string{"2009-04-04", Latest}

// File is one file of a config drive.
type File struct {
	Path string // relative, slash-separated: openstack/latest/meta_data.json
	Data []byte
}

// DriveFiles is the content of inst's config drive, as Nova's
// metadata_for_config_drive: ec2/<v>/meta-data.json (and user-data) for
// 2009-04-04 and latest, and every OpenStack version's files, rendered by
// Lookup (one source for the service and the drive). Sorted by path.
func DriveFiles(inst Instance) []File {
	var files []File
	for _, version := range driveEC2Versions {
		v, _ := versionIndex(EC2Versions, version)
		md := jsonContent(ec2JSON(ec2MetaData(inst, v))).Body
		files = append(files, File{Path: path.Join("ec2", version, "meta-data.json"), Data: md})
		if inst.UserData != nil {
			files = append(files, File{Path: path.Join("ec2", version, "user-data"), Data: inst.UserData})
		}
	}
	for _, version := range append(slices.Clone(OpenStackVersions), Latest) {
		v, _ := versionIndex(OpenStackVersions, version)
		for _, name := range openstackFiles(inst, func(r string) bool { return atLeast(OpenStackVersions, v, r) }) {
			p := path.Join("openstack", version, name)
			c, err := Lookup(inst, p)
			if err != nil {
				// Every listed file renders: a bug if not.
				panic(fmt.Sprintf("metadata: %s listed but not rendered: %v", p, err))
			}
			files = append(files, File{Path: p, Data: c.Body})
		}
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files
}

// seedLen is the size of random_seed (Nova's).
const seedLen = 512

// isoBlock is the ISO 9660 logical block size.
const isoBlock = 2048

// ConfigDrive writes inst's config drive to dst: an ISO 9660 image labelled
// config-2 with DriveFiles, named by Rock Ridge (long lowercase names, as
// genisoimage -r makes Nova's), mode 0600 (it carries user
// data). A random_seed is drawn when inst has none. The image appears at
// dst whole or not at all (written beside it, then renamed).
func ConfigDrive(dst string, inst Instance) (err error) {
	if inst.RandomSeed == nil {
		inst.RandomSeed = make([]byte, seedLen)
		if _, err := io.ReadFull(rand.Reader, inst.RandomSeed); err != nil {
			return fmt.Errorf("config drive: random seed: %w", err)
		}
	}
	files := DriveFiles(inst)
	dir := filepath.Dir(dst)
	// The library builds the tree in a work dir whose modes become the
	// image's: its root must be 0755 (guests' users read the drive, as
	// Nova's), so it sits inside a private dir.
	private, err := os.MkdirTemp(dir, ".config-drive-work-")
	if err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	defer os.RemoveAll(private)
	work := filepath.Join(private, "root")
	if err := os.Mkdir(work, 0o755); err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	if err := os.Chmod(work, 0o755); err != nil { // whatever the umask
		return fmt.Errorf("config drive: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config-drive-*.iso") // 0600
	if err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := writeISO(f, work, files); err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	return nil
}

// writeISO builds the image in f, through the library's workspace dir
// work, then cuts f to the volume's size.
func writeISO(f *os.File, work string, files []File) error {
	size := isoSizeBound(files)
	if err := f.Truncate(size); err != nil {
		return err
	}
	img, err := iso9660.Create(file.New(f, false), size, 0, isoBlock, work)
	if err != nil {
		return err
	}
	for _, df := range files {
		if err := img.Mkdir(path.Dir(df.Path)); err != nil {
			return err
		}
		w, err := img.OpenFile(df.Path, os.O_CREATE|os.O_RDWR|os.O_TRUNC)
		if err != nil {
			return err
		}
		_, err = w.Write(df.Data)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", df.Path, err)
		}
	}
	if err := readableByAll(work); err != nil {
		return err
	}
	// Rock Ridge only: the library's Joliet tree (v1.9.4) points its
	// subdirectories at the primary tree's records, which a Joliet reader
	// decodes as garbage; Linux reads Rock Ridge first anyway.
	if err := img.Finalize(iso9660.FinalizeOptions{RockRidge: true, VolumeIdentifier: DriveLabel}); err != nil {
		return err
	}
	blocks, err := volumeBlocks(f)
	if err != nil {
		return err
	}
	return f.Truncate(blocks * isoBlock)
}

// readableByAll gives the tree Nova's modes (genisoimage -r: everyone
// reads), whatever the umask the files were written under.
func readableByAll(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
}

// isoSizeBound is more than the image of files can take: their data block
// by block, and per file and directory generous room for its records in
// both name trees.
func isoSizeBound(files []File) int64 {
	n := int64(64 * isoBlock) // system area, descriptors, path tables, root
	for _, f := range files {
		n += (int64(len(f.Data))/isoBlock + 1) * isoBlock
		n += 4 * isoBlock // its directory's records, both trees; the directory itself
	}
	return n
}

// volumeBlocks reads the volume space size from the primary volume
// descriptor (sector 16, both-endian uint32 at byte 80).
func volumeBlocks(f *os.File) (int64, error) {
	var pvd [88]byte
	if _, err := f.ReadAt(pvd[:], 16*isoBlock); err != nil {
		return 0, err
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return 0, errors.New("no primary volume descriptor where it belongs")
	}
	return int64(binary.LittleEndian.Uint32(pvd[80:84])), nil
}
