package metadata

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Guests finds this host's guests.
type Guests interface {
	// Guest is the instance this host runs whose fixed IP is ip.
	Guest(ip netip.Addr) (Instance, bool)
}

// Resolver tells the MAC behind an address on the tenant bridge.
type Resolver interface {
	// MAC is the link-layer address this host's neighbour table holds
	// for ip on the tenant bridge: the one its replies go to.
	MAC(ip netip.Addr) (net.HardwareAddr, error)
}

// Defaults of HandlerConfig. cloud-init reads ~40 paths at boot (the
// OpenStack files and a crawl of the EC2 tree): a burst takes them all.
const (
	DefaultRate  = 10  // requests per second per guest, sustained
	DefaultBurst = 100 // requests per guest at once
)

// HandlerConfig configures a Handler.
type HandlerConfig struct {
	Guests   Guests
	Resolver Resolver
	Rate     float64          // default DefaultRate
	Burst    int              // default DefaultBurst
	Rand     io.Reader        // random_seed's source; default crypto/rand
	Now      func() time.Time // the limiter's clock; default time.Now
	Logger   *slog.Logger
}

// Handler serves each guest its own metadata (see the package doc).
type Handler struct {
	cfg   HandlerConfig
	log   *slog.Logger
	limit *limiter
}

// NewHandler returns a Handler; Guests and Resolver are required.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if cfg.Guests == nil || cfg.Resolver == nil {
		return nil, errors.New("metadata: the handler needs Guests and a Resolver")
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{cfg: cfg, log: cfg.Logger.With("component", "metadata"),
		limit: newLimiter(cfg.Rate, cfg.Burst)}, nil
}

// ServeHTTP answers GET and HEAD. The caller is its TCP source address,
// never a header: a request from an address that is not a guest here is
// 404 (as Nova answers an unknown instance), from a guest's address
// whose MAC is not the guest's port's 403, past the guest's rate 429.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	src, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	ip := src.Addr().Unmap()
	inst, ok := h.cfg.Guests.Guest(ip)
	if !ok {
		h.log.Debug("metadata request from an address that is no guest of this host", "source", ip)
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	mac, err := h.cfg.Resolver.MAC(ip)
	if err != nil || !bytes.Equal(mac, inst.Port.MAC) {
		h.log.Warn("metadata request refused: the source's MAC is not its port's", "source", ip,
			"instance", inst.UUID, "mac", mac.String(), "port_mac", inst.Port.MAC.String(), "err", err)
		http.Error(w, "403 Forbidden", http.StatusForbidden)
		return
	}
	if wait, ok := h.limit.allow(inst.UUID, h.cfg.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		http.Error(w, "429 Too Many Requests", http.StatusTooManyRequests)
		return
	}
	inst.RandomSeed = make([]byte, seedLen)
	if _, err := io.ReadFull(h.cfg.Rand, inst.RandomSeed); err != nil {
		h.log.Error("metadata: no random seed", "err", err)
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	c, err := Lookup(inst, r.URL.Path)
	if err != nil {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", c.Type)
	w.Header().Set("Content-Length", strconv.Itoa(len(c.Body)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(c.Body)
	}
}
