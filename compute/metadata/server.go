package metadata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultPort is the metadata service's port on the tenant gateway (Nova's
// metadata API port). Co-located agents take one each.
const DefaultPort = 8775

// ServerConfig configures a Server.
type ServerConfig struct {
	Port int // default DefaultPort; tests give 0 for a free one
	// Gateway is the tenant network's gateway as the replica says it is
	// now; false while there is no tenant network.
	Gateway func() (netip.Addr, bool)
	// Watch returns a channel closed at the replica's next change.
	Watch   func() <-chan struct{}
	Handler http.Handler
	Retry   time.Duration // after a failed listen; default 1s
	Logger  *slog.Logger
}

// Server serves the metadata Handler on the tenant gateway, moving with it
// when the tenant network changes. It binds with IP_FREEBIND: the gateway
// address is on the bridge libvirt makes with the first guest, and the
// service must be there when that guest boots.
type Server struct {
	cfg ServerConfig
	log *slog.Logger

	mu   sync.Mutex
	addr netip.AddrPort // where it listens; zero when it does not
}

// NewServer returns a Server; it runs with Run.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Gateway == nil || cfg.Watch == nil || cfg.Handler == nil {
		return nil, errors.New("metadata: the server needs Gateway, Watch and a Handler")
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("metadata: port %d", cfg.Port)
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("component", "metadata")}, nil
}

// Addr is where the server listens now; zero when it does not.
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run serves until ctx ends: on the gateway the replica names, moving when
// it changes, retrying a listen that fails.
func (s *Server) Run(ctx context.Context) {
	var cur *serving
	var failing string // the last listen error warned about: each is logged once
	defer func() {
		cur.stop()
		s.setAddr(netip.AddrPort{})
	}()
	for {
		watch := s.cfg.Watch()
		var retry <-chan time.Time
		gw, ok := s.cfg.Gateway()
		if !ok || !gw.Is4() {
			gw = netip.Addr{}
		}
		if cur.gateway() != gw {
			cur.stop()
			cur = nil
			s.setAddr(netip.AddrPort{})
			if gw.IsValid() {
				sv, err := s.listen(gw)
				if err != nil {
					if err.Error() != failing {
						failing = err.Error()
						s.log.Warn("metadata service cannot listen on the tenant gateway; will retry", "gateway", gw, "err", err)
					}
					retry = time.After(s.cfg.Retry)
				} else {
					failing = ""
					cur = sv
					s.setAddr(sv.addr)
					s.log.Info("metadata service listening", "addr", sv.addr)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-watch:
		case <-retry:
		}
	}
}

func (s *Server) setAddr(a netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addr = a
}

// Timeouts of the HTTP server: a guest's request is small and quick.
const (
	readTimeout  = 10 * time.Second
	writeTimeout = 10 * time.Second
	idleTimeout  = 60 * time.Second
	stopTimeout  = 5 * time.Second
)

// serving is one listener and its HTTP server; its goroutine is joined
// by stop.
type serving struct {
	gw   netip.Addr
	addr netip.AddrPort
	srv  *http.Server
	done chan struct{}
}

func (s *Server) listen(gw netip.Addr) (*serving, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
		})
		return errors.Join(err, serr)
	}}
	ln, err := lc.Listen(context.Background(), "tcp4", net.JoinHostPort(gw.String(), strconv.Itoa(s.cfg.Port)))
	if err != nil {
		return nil, err
	}
	sv := &serving{gw: gw, addr: netip.MustParseAddrPort(ln.Addr().String()), done: make(chan struct{}),
		srv: &http.Server{Handler: s.cfg.Handler, ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout,
			WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}}
	go func() {
		defer close(sv.done)
		if err := sv.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("metadata service stopped", "addr", sv.addr, "err", err)
		}
	}()
	return sv, nil
}

func (sv *serving) gateway() netip.Addr {
	if sv == nil {
		return netip.Addr{}
	}
	return sv.gw
}

// stop closes the listener, lets requests in flight finish (bounded), and
// waits for the serving goroutine.
func (sv *serving) stop() {
	if sv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := sv.srv.Shutdown(ctx); err != nil {
		sv.srv.Close()
	}
	<-sv.done
}
