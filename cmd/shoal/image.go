package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "manage images (metadata for now)",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "register an image",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "disk-format", Value: "qcow2", Usage: "ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso or ploop"},
					&cli.StringFlag{Name: "container-format", Value: "bare", Usage: "ami, ari, aki, bare, ovf, ova or docker"},
					&cli.Int64Flag{Name: "size", Usage: "size in bytes"},
					&cli.StringFlag{Name: "checksum", Usage: "sha256 of the image, in hex"},
					&cli.IntFlag{Name: "min-ram", Usage: "minimum RAM in MiB a flavor needs for it"},
					&cli.IntFlag{Name: "min-disk", Usage: "minimum disk in GiB a flavor needs for it"},
					&cli.StringSliceFlag{Name: "property", KeepSpace: true, Usage: "KEY=VALUE (repeat for more)"},
					&cli.StringFlag{Name: "id", Usage: "image ID, a UUID (default: generated)"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "image create needs one NAME")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					props, err := parseProperties(c.StringSlice("property"))
					if err != nil {
						return err
					}
					img, err := apiClient(c).CreateImage(c.Context, api.ImageCreate{
						ID: c.String("id"), Name: c.Args().First(),
						DiskFormat: c.String("disk-format"), ContainerFormat: c.String("container-format"),
						Size: c.Int64("size"), Checksum: c.String("checksum"),
						MinRAM: c.Int("min-ram"), MinDisk: c.Int("min-disk"), Properties: props,
					})
					if err != nil {
						return err
					}
					return printImage(o, img)
				},
			},
			{
				Name:  "list",
				Usage: "list images",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError(c, "image list takes no arguments")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					images, err := apiClient(c).Images(c.Context)
					if err != nil {
						return err
					}
					return printImages(o, images)
				},
			},
			{
				Name:      "show",
				Usage:     "show one image by ID or name",
				ArgsUsage: "IMAGE",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "image show needs one image ID or name")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					img, err := apiClient(c).Image(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					return printImage(o, img)
				},
			},
			{
				Name:      "delete",
				Usage:     "delete an image by ID or name (refused while servers use it)",
				ArgsUsage: "IMAGE",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "image delete needs one image ID or name")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					ref := c.Args().First()
					if err := apiClient(c).DeleteImage(c.Context, ref); err != nil {
						return err
					}
					if o.json {
						return nil // the API answers 204 with no body
					}
					_, err = fmt.Fprintf(o.w, "deleted image %s\n", ref)
					return err
				},
			},
		},
	}
}

func printImages(o *output, images []fsm.Image) error {
	if images == nil {
		images = []fsm.Image{}
	}
	if o.json {
		return o.printJSON(api.ImageList{Images: images})
	}
	rows := make([][]string, 0, len(images))
	for _, img := range images {
		rows = append(rows, []string{img.ID, img.Name, img.Status, img.DiskFormat, img.ContainerFormat, strconv.FormatInt(img.Size, 10)})
	}
	return o.table([]string{"ID", "NAME", "STATUS", "DISK FORMAT", "CONTAINER FORMAT", "SIZE"}, rows)
}

func printImage(o *output, img fsm.Image) error {
	if o.json {
		return o.printJSON(api.ImageResponse{Image: img})
	}
	return o.table([]string{"FIELD", "VALUE"}, [][]string{
		{"id", img.ID},
		{"name", img.Name},
		{"status", img.Status},
		{"disk_format", img.DiskFormat},
		{"container_format", img.ContainerFormat},
		{"size", strconv.FormatInt(img.Size, 10)},
		{"checksum", img.Checksum},
		{"min_ram", strconv.Itoa(img.MinRAM) + " MiB"},
		{"min_disk", strconv.Itoa(img.MinDisk) + " GiB"},
		{"properties", properties(img.Properties)},
		{"created", timestamp(img.Created)},
		{"updated", timestamp(img.Updated)},
	})
}
