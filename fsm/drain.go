package fsm

import (
	"fmt"
	"slices"
	"time"
)

// A drain's progress is derived on every read from the host's record and
// the migrations made from it since the drain started (CreateIndex ≥
// Host.DrainIndex): nothing but DrainHost itself is recorded for it. The
// leader reads the same view (FSM.Drain) to decide what to move next and
// when the drain is over, so the API and the leader cannot disagree.

// DrainFailure is a server a drain cannot move, and why.
type DrainFailure struct {
	Instance string `json:"instance"`
	Message  string `json:"message"`
}

// DrainProgress is how the drain of a host goes (GET
// /v1/hosts/{name}/drain). Total counts the servers the drain has had to
// deal with: Remaining are still tied to the host (on it, or moving from
// it), Moved have left it. InProgress are the servers moving now, Failed
// those it leaves where they are.
type DrainProgress struct {
	Host       string         `json:"host"`
	State      string         `json:"state"` // DrainDraining, DrainDone, DrainFailed or DrainIdle
	Total      int            `json:"total"`
	Moved      int            `json:"moved"`
	Remaining  int            `json:"remaining"`
	InProgress []string       `json:"in_progress"`
	Failed     []DrainFailure `json:"failed"`
	StartedAt  time.Time      `json:"started_at,omitzero"`
	UpdatedAt  time.Time      `json:"updated_at,omitzero"`
}

// DrainView is a host's drain progress and what the leader may do next:
// the servers to live-migrate (ACTIVE or PAUSED) and to cold-migrate
// (SHUTOFF), in ID order, and the drain's cold migrations waiting in
// VERIFY_RESIZE to be confirmed. Busy counts the migrations in progress
// from the host, Waiting its servers busy with a task of another kind
// (they are moved once it is over).
type DrainView struct {
	Progress DrainProgress
	Draining bool
	Live     []string
	Cold     []string
	Confirm  []string
	Busy     int
	Waiting  int
}

// Outcome is how a running drain ends now: DrainDone once no server is
// left, DrainFailed once only servers it cannot move are, "" while it
// goes on.
func (v DrainView) Outcome() string {
	switch {
	case v.Progress.Remaining == 0:
		return DrainDone
	case len(v.Progress.InProgress) == 0 && v.Waiting == 0 && len(v.Live)+len(v.Cold) == 0:
		return DrainFailed
	}
	return ""
}

// MaxDrainAttempts is how many failed moves of one server a drain makes
// before it leaves the server where it is.
const MaxDrainAttempts = 2

// Busy reports whether the migration is under way: in progress and not
// waiting for its user's decision (VERIFY_RESIZE). Busy migrations are
// what drains bound.
func (m *Migration) Busy() bool { return m.InProgress() && m.Status != MigrationFinished }

// Drain is the drain of the named host as it stands.
func (f *FSM) Drain(host string) (DrainView, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	h, ok := f.state.Hosts[host]
	if !ok {
		return DrainView{}, fmt.Errorf("%w: host %q", ErrNotFound, host)
	}
	return f.state.drainOf(h), nil
}

// drainOf derives h's drain view (see the top of this file).
func (s *State) drainOf(h *Host) DrainView {
	v := DrainView{Draining: h.Draining, Progress: DrainProgress{Host: h.Name, State: DrainIdle,
		InProgress: []string{}, Failed: []DrainFailure{}, StartedAt: h.DrainStarted, UpdatedAt: h.DrainStarted}}
	switch {
	case h.Draining:
		v.Progress.State = DrainDraining
	case h.DrainResult == DrainDone || h.DrainResult == DrainFailed:
		v.Progress.State = h.DrainResult
	}
	if h.DrainIndex == 0 {
		return v
	}
	if h.DrainEnded.After(v.Progress.UpdatedAt) {
		v.Progress.UpdatedAt = h.DrainEnded
	}
	touched, fails, lastFail := s.drainMigrations(h, &v)
	left := map[string]bool{}
	for _, inst := range s.Instances {
		if inst.VMState == VMDeleted {
			continue
		}
		m := s.migrationFor(inst)
		switch {
		case m != nil && m.Source == h.Name && m.Status == MigrationFinished && s.drainConfirms(h, inst, m):
			v.Confirm = append(v.Confirm, inst.ID)
			left[inst.ID] = true
			v.Progress.InProgress = append(v.Progress.InProgress, inst.ID)
		case m != nil && m.Busy() && (m.Source == h.Name || inst.Host == h.Name):
			left[inst.ID] = true
			v.Progress.InProgress = append(v.Progress.InProgress, inst.ID)
		case inst.Host == h.Name:
			left[inst.ID] = true
			v.classify(inst, m, fails[inst.ID], lastFail[inst.ID])
		}
	}
	for id := range left {
		touched[id] = true
	}
	v.Progress.Total, v.Progress.Remaining = len(touched), len(left)
	v.Progress.Moved = v.Progress.Total - v.Progress.Remaining
	for _, l := range [][]string{v.Progress.InProgress, v.Live, v.Cold, v.Confirm} {
		slices.Sort(l)
	}
	slices.SortFunc(v.Progress.Failed, func(a, b DrainFailure) int {
		switch {
		case a.Instance < b.Instance:
			return -1
		case a.Instance > b.Instance:
			return 1
		}
		return 0
	})
	return v
}

// drainMigrations reads the migrations from h since its drain started:
// the servers they touched, how many times each failed and the last
// failure's message; it counts the busy ones and moves UpdatedAt on.
func (s *State) drainMigrations(h *Host, v *DrainView) (touched map[string]bool, fails map[string]int, last map[string]string) {
	touched, fails, last = map[string]bool{}, map[string]int{}, map[string]string{}
	lastID := map[string]uint64{}
	for _, m := range s.Migrations {
		if m.Source != h.Name {
			continue
		}
		if m.Busy() {
			v.Busy++
		}
		if m.CreateIndex < h.DrainIndex || m.Kind == MigrationEvacuation {
			continue
		}
		touched[m.InstanceID] = true
		if m.Updated.After(v.Progress.UpdatedAt) {
			v.Progress.UpdatedAt = m.Updated
		}
		if m.Status == MigrationFailed || m.Status == MigrationError {
			fails[m.InstanceID]++
			if m.ID > lastID[m.InstanceID] {
				lastID[m.InstanceID], last[m.InstanceID] = m.ID, m.Message
			}
		}
	}
	return touched, fails, last
}

// drainConfirms reports whether the drain of h confirms inst's finished
// move at once: a cold migration from h made since the drain started,
// while the drain runs.
func (s *State) drainConfirms(h *Host, inst *Instance, m *Migration) bool {
	return h.Draining && m.Kind == MigrationCold && m.CreateIndex >= h.DrainIndex &&
		inst.VMState == VMResized && inst.TaskState == TaskNone
}

// classify sorts a server on the draining host that is not moving: to
// move live or cold, to wait for its task, or failed.
func (v *DrainView) classify(inst *Instance, m *Migration, fails int, lastFail string) {
	fail := func(msg string) {
		v.Progress.Failed = append(v.Progress.Failed, DrainFailure{Instance: inst.ID, Message: msg})
	}
	switch {
	case inst.VMState == VMError:
		msg := "the server is in ERROR"
		if inst.Fault != nil && inst.Fault.Message != "" {
			msg += ": " + inst.Fault.Message
		}
		fail(msg)
	case fails >= MaxDrainAttempts:
		fail(fmt.Sprintf("%d moves failed; the last: %s", fails, lastFail))
	case inst.TaskState != TaskNone || inst.VMState == VMBuilding:
		v.Waiting++
	case inst.VMState == VMActive || inst.VMState == VMPaused:
		v.Live = append(v.Live, inst.ID)
	case inst.VMState == VMStopped:
		v.Cold = append(v.Cold, inst.ID)
	case inst.VMState == VMResized && m != nil:
		fail("the server waits for its user to confirm or revert its " + m.Kind)
	default:
		fail("a " + inst.Status() + " server cannot be moved")
	}
}
