package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

func imageCommand() *cli.Command {
	arg := operand{"IMAGE", "image ID or name"}
	return &cli.Command{
		Name:  "image",
		Usage: "manage images: register, upload, list, show, save, delete",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "register an image and, with --file, upload its data (Glance's two steps)",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "file", Usage: "the image data to upload; without it the image stays queued"},
					&cli.StringFlag{Name: "disk-format", Value: "qcow2", Usage: "qcow2 or raw to upload; ami, ari, aki, vhd, vhdx, vmdk, vdi, iso or ploop register metadata only"},
					&cli.StringFlag{Name: "container-format", Value: "bare", Usage: "ami, ari, aki, bare, ovf, ova or docker"},
					&cli.IntFlag{Name: "min-ram", Usage: "minimum RAM in MiB a flavor needs for it"},
					&cli.IntFlag{Name: "min-disk", Usage: "minimum disk in GiB a flavor needs for it"},
					&cli.StringSliceFlag{Name: "property", KeepSpace: true, Usage: "KEY=VALUE (repeat for more)"},
					&cli.StringFlag{Name: "id", Usage: "image ID, a UUID (default: generated)"},
					&cli.BoolFlag{Name: "public", Usage: "every project may use it (admin only)"},
					&cli.BoolFlag{Name: "private", Usage: "only this project may use it (the default)"},
					&cli.BoolFlag{Name: "shared", Usage: "shared with chosen projects (Glance's shared)"},
				},
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					props, err := parseProperties(c.StringSlice("property"))
					if err != nil {
						return err
					}
					visibility, err := visibilityFlag(c)
					if err != nil {
						return err
					}
					// Open the file first: a missing file must not leave a queued image behind.
					var data *imageFile
					if path := c.String("file"); path != "" {
						if data, err = openImageFile(path); err != nil {
							return err
						}
						defer data.Close()
					}
					cl := apiClient(c)
					img, err := cl.CreateImage(c.Context, api.ImageCreate{
						ID: c.String("id"), Name: name,
						DiskFormat: c.String("disk-format"), ContainerFormat: c.String("container-format"),
						MinRAM: c.Int("min-ram"), MinDisk: c.Int("min-disk"), Properties: props,
						Visibility: visibility,
					})
					if err != nil {
						return err
					}
					if data == nil {
						return printImage(o, img)
					}
					if err := uploadImage(c, cl, img.ID, data); err != nil {
						return abandonUpload(c, cl, img.ID, data.path, err)
					}
					return printUploaded(c, cl, o, img.ID)
				},
			},
			{
				Name:      "upload",
				Usage:     "upload the data of a queued image",
				ArgsUsage: "IMAGE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "file", Required: true, Usage: "the image data, in the image's disk format"},
				},
				Action: func(c *cli.Context) error {
					ref, err := oneArg(c, arg.what)
					if err != nil {
						return err
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					data, err := openImageFile(c.String("file"))
					if err != nil {
						return err
					}
					defer data.Close()
					cl := apiClient(c)
					if err := uploadImage(c, cl, ref, data); err != nil {
						return err
					}
					return printUploaded(c, cl, o, ref)
				},
			},
			{
				Name:      "save",
				Usage:     "download an image's data from the node --addr names (one of its locations)",
				ArgsUsage: "IMAGE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "file", Required: true, Usage: "where to write the data (- for stdout)"},
				},
				Action: func(c *cli.Context) error {
					ref, err := oneArg(c, arg.what)
					if err != nil {
						return err
					}
					return saveImage(c, apiClient(c), ref, c.String("file"))
				},
			},
			listCommand("list", "list images", (*client.Client).Images, printImages),
			showCommand("show one image by ID or name", arg, (*client.Client).Image, printImage),
			deleteCommand("delete an image by ID or name (refused while servers use it)", arg, "image",
				(*client.Client).DeleteImage),
		},
	}
}

func printImages(o *output, images []fsm.Image) error {
	return printList(o, images, func(l []fsm.Image) any { return api.ImageList{Images: l} },
		[]string{"ID", "NAME", "STATUS", "DISK FORMAT", "CONTAINER FORMAT", "SIZE"},
		func(img fsm.Image) []string {
			return []string{img.ID, img.Name, img.Status, img.DiskFormat, img.ContainerFormat, strconv.FormatInt(img.Size, 10)}
		})
}

func printImage(o *output, img fsm.Image) error {
	return o.printObject(api.ImageResponse{Image: img}, [][]string{
		{"id", img.ID},
		{"name", img.Name},
		{"status", img.Status},
		{"disk_format", img.DiskFormat},
		{"container_format", img.ContainerFormat},
		{"size", strconv.FormatInt(img.Size, 10)},
		{"checksum", img.Checksum},
		{"locations", strings.Join(img.Locations, ", ")},
		{"min_ram", strconv.Itoa(img.MinRAM) + " MiB"},
		{"min_disk", strconv.Itoa(img.MinDisk) + " GiB"},
		{"properties", properties(img.Properties)},
		{"created", timestamp(img.Created)},
		{"updated", timestamp(img.Updated)},
	})
}

// imageFile is image data to upload: a regular file and its size.
type imageFile struct {
	*os.File
	path string
	size int64
}

func openImageFile(path string) (*imageFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return &imageFile{File: f, path: path, size: fi.Size()}, nil
}

// uploadImage sends data to the image ref, drawing progress on stderr.
func uploadImage(c *cli.Context, cl *client.Client, ref string, data *imageFile) error {
	bar := newProgressBar(c.App.ErrWriter, data.size)
	err := cl.UploadImage(c.Context, ref, data, data.size, bar.update)
	bar.finish(err == nil)
	return err
}

// printUploaded prints the image as the node holds it after an upload, with
// the status and size the upload set.
func printUploaded(c *cli.Context, cl *client.Client, o *output, ref string) error {
	img, err := cl.Image(c.Context, ref)
	if err != nil {
		return err
	}
	return printImage(o, img)
}

// abandonUpload handles a failed upload into a freshly created image: the
// node refused the data (4xx), so the queued image is deleted; otherwise the
// outcome is unknown and the image is left for a retry.
func abandonUpload(c *cli.Context, cl *client.Client, id, path string, err error) error {
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 {
		if derr := cl.DeleteImage(c.Context, id); derr != nil {
			return fmt.Errorf("uploading %s: %w (deleting the queued image %s failed too: %v)", path, err, id, derr)
		}
		return fmt.Errorf("uploading %s: %w (the queued image %s was deleted)", path, err, id)
	}
	return fmt.Errorf("uploading %s: %w (image %s stays queued: retry with shoal image upload %s --file %s, or delete it)", path, err, id, id, path)
}

// saveImage downloads an image's data to path, or to stdout for "-".
func saveImage(c *cli.Context, cl *client.Client, ref, path string) error {
	if path == "-" {
		_, err := cl.DownloadImage(c.Context, ref, c.App.Writer)
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".shoal-image-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, nothing is left to remove
	if _, err := cl.DownloadImage(c.Context, ref, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// progressBar draws an upload's progress: redrawn in place on a terminal,
// one plain final line otherwise (logs and pipes get no carriage returns).
type progressBar struct {
	w        io.Writer
	total    int64
	tty      bool
	done     int64
	drawn    string
	lastDraw time.Time
	now      func() time.Time
}

func newProgressBar(w io.Writer, total int64) *progressBar {
	return &progressBar{w: w, total: total, tty: isTerminal(w), now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update records progress; on a terminal it redraws at most ten times a second.
func (p *progressBar) update(done int64) {
	p.done = done
	if !p.tty || p.now().Sub(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.draw()
}

func (p *progressBar) draw() {
	line := p.line()
	if line == p.drawn {
		return
	}
	// Pad over a longer line drawn before.
	pad := max(len(p.drawn)-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.drawn, p.lastDraw = line, p.now()
}

// finish draws the last state and ends the line. A failed upload ends a
// terminal's line and prints nothing elsewhere: the error says it all.
func (p *progressBar) finish(ok bool) {
	switch {
	case p.tty:
		p.draw()
		fmt.Fprintln(p.w)
	case ok:
		fmt.Fprintln(p.w, p.line())
	}
}

// line is e.g. "[#####.....]  52% 12.3 MiB/23.6 MiB".
func (p *progressBar) line() string {
	const width = 10
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	full := int(frac * width)
	return fmt.Sprintf("[%s%s] %3d%% %s/%s", strings.Repeat("#", full), strings.Repeat(".", width-full),
		int(frac*100), humanBytes(p.done), humanBytes(p.total))
}

// humanBytes is n in B, KiB, MiB, GiB or TiB with one decimal.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// visibilityFlag reads --public, --private or --shared (at most one), as
// `openstack image create` takes them; none leaves Glance's default.
func visibilityFlag(c *cli.Context) (string, error) {
	var chosen []string
	for _, v := range []string{"public", "private", "shared"} {
		if c.Bool(v) {
			chosen = append(chosen, v)
		}
	}
	if len(chosen) > 1 {
		return "", usageError(c, "give at most one of --public, --private and --shared")
	}
	if len(chosen) == 0 {
		return "", nil
	}
	return chosen[0], nil
}
