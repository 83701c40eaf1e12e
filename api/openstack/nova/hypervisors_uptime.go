package nova

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// HypervisorUptime is the answer of GET os-hypervisors/{id}/uptime.
type HypervisorUptime struct {
	HypervisorSummary
	Uptime string `json:"uptime"`
}

// procRoot is where the uptime is read (a test points it elsewhere).
var procRoot = "/proc"

// hypervisorUptime answers, like Nova's libvirt driver, with the line
// uptime(1) prints on the host. Only this node's own is known here (the
// kernel's /proc); for another host it is Nova's answer for a driver that
// cannot tell, 501, which the CLI's "hypervisor show" tolerates.
func (m *Module) hypervisorUptime(w http.ResponseWriter, r *http.Request) {
	h, err := m.hypervisorByID(r, r.PathValue("id"))
	if err == nil && h.host.Name != m.ops.NodeName() {
		err = &fault{status: http.StatusNotImplemented, message: "Virt driver does not implement uptime function."}
	}
	var line string
	if err == nil {
		line, err = uptimeLine(time.Now())
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]HypervisorUptime{"hypervisor": {HypervisorSummary: m.summary(r, h), Uptime: line}})
}

// uptimeLine is uptime(1)'s " 10:32:15 up 3 days,  2:05,  load average:
// 0.00, 0.01, 0.05", without the user count (the kernel does not keep it).
func uptimeLine(now time.Time) (string, error) {
	up, err := os.ReadFile(procRoot + "/uptime")
	if err != nil {
		return "", fmt.Errorf("%w: reading the uptime: %v", fsm.ErrUnavailable, err)
	}
	load, err := os.ReadFile(procRoot + "/loadavg")
	if err != nil {
		return "", fmt.Errorf("%w: reading the load average: %v", fsm.ErrUnavailable, err)
	}
	upFields, loadFields := strings.Fields(string(up)), strings.Fields(string(load))
	if len(upFields) < 1 || len(loadFields) < 3 {
		return "", fmt.Errorf("%w: unexpected uptime %q or load average %q", fsm.ErrUnavailable, up, load)
	}
	secs, err := strconv.ParseFloat(upFields[0], 64)
	if err != nil {
		return "", fmt.Errorf("%w: unexpected uptime %q", fsm.ErrUnavailable, up)
	}
	d := time.Duration(secs) * time.Second
	days, hours, minutes := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	since := fmt.Sprintf("%2d:%02d", hours, minutes)
	switch {
	case days == 1:
		since = "1 day, " + since
	case days > 1:
		since = fmt.Sprintf("%d days, %s", days, since)
	}
	return fmt.Sprintf(" %s up %s,  load average: %s, %s, %s", now.Format("15:04:05"), since,
		loadFields[0], loadFields[1], loadFields[2]), nil
}

// guestsOn are the servers on host, every project's.
func (m *Module) guestsOn(ctx context.Context, host string) ([]HypervisorGuest, error) {
	servers, err := m.ops.Servers(ctx, api.ServerFilter{AllTenants: true, Host: host})
	if err != nil {
		return nil, err
	}
	out := []HypervisorGuest{}
	for _, s := range servers {
		out = append(out, HypervisorGuest{UUID: s.ID, Name: s.Name})
	}
	return out, nil
}
