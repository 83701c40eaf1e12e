package glance

// TEMPORARY until fsmos lands: stand-ins for fsm's image update.

import (
	"context"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

type imageChange struct {
	Op, Field, Property, Value string
	Number                     int
	Flag                       bool
	Tags                       []string
}

const (
	opAdd, opRemove = "add", "remove"
	fieldTag        = "tag"
)

func imageMD5(fsm.Image) string           { return "" }
func imageProtected(fsm.Image) bool       { return false }
func imageTags(fsm.Image) []string        { return []string{} }
func setProtected(*api.ImageCreate, bool) {}
func setTags(*api.ImageCreate, []string)  {}
func updateImage(*api.Ops, context.Context, string, []imageChange) (uint64, fsm.Image, error) {
	return 0, fsm.Image{}, nil
}
