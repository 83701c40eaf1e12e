package fake

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestStateFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "domains.json")
	cfg := Config{StateFile: path}
	d := New(cfg)
	must(t, d.Define(ctx, spec(id)))
	must(t, d.Start(ctx, id))
	before := d.Domains()
	must(t, d.Close())

	d2 := New(cfg) // the agent restarted
	after := d2.Domains()
	if len(after) != 1 || after[0].Defines != 1 || after[0].Boots != 1 || after[0].PowerState != fsm.PowerRunning ||
		!slices.Equal(after[0].Console, before[0].Console) {
		t.Fatalf("after restart: %+v, want %+v", after, before)
	}
	must(t, d2.Define(ctx, spec(id))) // adopted, not recreated
	if got := d2.Domains()[0].Defines; got != 1 {
		t.Fatalf("Defines = %d after re-Define, want 1", got)
	}
	must(t, d2.Destroy(ctx, id))
	must(t, d2.Undefine(ctx, id))
	must(t, d2.Define(ctx, spec(id)))
	if got := New(cfg).Domains(); len(got) != 1 || got[0].Defines != 2 || got[0].Boots != 0 {
		t.Fatalf("after undefine and define: %+v, want Defines 2 and no boots", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("data dir holds %v (%v), want only the state file", entries, err)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cfg); err == nil {
		t.Error("Open accepted a corrupt state file")
	}
}

func TestStateFileUnwritable(t *testing.T) {
	d := New(Config{StateFile: filepath.Join(t.TempDir(), "missing-dir", "domains.json")})
	if err := d.Define(context.Background(), spec(id)); err == nil {
		t.Fatal("Define succeeded without saving")
	}
	if len(d.Domains()) != 0 {
		t.Error("an unsaved Define kept the domain")
	}
}
