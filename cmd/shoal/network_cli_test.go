package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
)

// TestNetworkCommands drives the network, floating-ip, security-group and
// server add/remove commands against the real API.
func TestNetworkCommands(t *testing.T) {
	n, h := newOneNode(t)
	run := cliRunner(t, h)
	has := printedAll(t)

	out := run("network create public --external --cidr 10.66.0.0/24 --gateway 10.66.0.1 --allocation-pool start=10.66.0.200,end=10.66.0.240")
	has("network create", out, "name              public\n", "external          yes\n", "allocation_pools  10.66.0.200-10.66.0.240\n")
	has("network list", run("network list"), "default                               default  no", "public", "10.66.0.0/24  10.66.0.1  10.66.0.200-10.66.0.240")
	var shown api.NetworkResponse
	if err := json.Unmarshal([]byte(run("network show public -o json")), &shown); err != nil || shown.Network.CIDR != "10.66.0.0/24" {
		t.Errorf("network show -o json: %v %+v", err, shown)
	}

	has("floating-ip create", run("floating-ip create --network public"), "ip          10.66.0.200\n", "server_id   -\n")
	has("floating-ip list", run("floating-ip list"), "10.66.0.200  -         -       "+shown.Network.ID)

	has("security-group create", run("security-group create web --description HTTP"), "name         web\n", "rules        egress IPv4 any to 0.0.0.0/0\n")
	out = run("security-group rule create web --protocol tcp --dst-port 80 --remote-ip 192.0.2.0/24 -o json")
	var rule api.SecurityGroupRuleResponse
	if err := json.Unmarshal([]byte(out), &rule); err != nil || rule.SecurityGroupRule.PortRangeMin == nil || *rule.SecurityGroupRule.PortRangeMin != 80 {
		t.Fatalf("rule create -o json: %v\n%s", err, out)
	}
	has("rule create", run("security-group rule create web --protocol icmp --icmp-type 8 --remote-group default"),
		"direction          ingress\n", "port_range         type=8\n", "remote             group ")
	has("rule list", run("security-group rule list web"), "ingress    IPv4       tcp       80          192.0.2.0/24", "egress     IPv4       any       any")
	has("group list", run("security-group list"), "default", "web      HTTP")
	has("security-group set", run("security-group set web --name www --description HTTPS"), "name         www\n", "description  HTTPS\n")
	has("security-group set", run("security-group set www --name web"), "name         web\n", "description  HTTPS\n")
	has("security-group set", run("security-group set default --description ours"), "name         default\n", "description  ours\n")

	run("image create cirros --file " + writeFile(t, "cirros.raw", make([]byte, 1024)) + " --disk-format raw")
	has("server create", run("server create vm --flavor m1.tiny --image cirros --security-group web --security-group default"),
		"security_groups    web, default\n")
	has("server add floating-ip", run("server add floating-ip vm 10.66.0.200"), "vm: add-floating-ip requested")
	has("server show", run("server show vm"), "(floating)", "default=10.66.0.200")
	has("floating-ip show", run("floating-ip show 10.66.0.200"), "fixed_ip    10.88.0.2\n")
	run("server remove floating-ip vm 10.66.0.200")
	if out := run("server show vm"); strings.Contains(out, "floating") {
		t.Errorf("server show after remove printed\n%s", out)
	}
	run("server remove security-group vm web")
	has("server show", run("server show vm"), "security_groups    default\n")
	run("server add security-group vm web")

	// Refused by the API: its message, nothing stored.
	before := n.Index()
	for _, args := range []string{
		"security-group rule create web --protocol tcp --dst-port 90:80",
		"security-group rule create web --protocol gre",
		"network create clash --external --cidr 10.66.0.0/16 --gateway 10.66.0.1",
		"network create outside --external --cidr 10.77.0.0/24 --gateway 10.77.0.1 --allocation-pool start=10.78.0.1,end=10.78.0.9",
		"server add floating-ip vm 10.66.0.239",
		"security-group delete default",
		"security-group set default --name mine",
		"security-group set web --name default",
	} {
		if _, _, err := runCLI(t, h, args); err == nil {
			t.Errorf("shoal %s succeeded", args)
		}
	}
	if n.Index() != before {
		t.Errorf("refused commands were proposed (index %d → %d)", before, n.Index())
	}
	// Wrong arguments: refused before any call.
	for args, want := range map[string]string{
		"security-group rule create web --ingress --egress":                                                     "exclude each other",
		"security-group rule create web --dst-port 8o":                                                          "PORT or MIN:MAX",
		"security-group rule create web --icmp-code 0":                                                          "--icmp-code needs --icmp-type",
		"security-group rule create web --remote-ip 10.0.0.0/8 --remote-group default":                          "exclude each other",
		"network create x --external --cidr 10.9.0.0/24 --gateway 10.9.0.1 --allocation-pool 10.9.0.5-10.9.0.9": "start=IP,end=IP",
		"server add floating-ip vm":                                                                             "needs a server ID or name and a floating IP address",
		"floating-ip create":                                                                                    "network",
		"security-group set web":                                                                                "needs --name or --description",
	} {
		_, _, err := runCLI(t, h, args)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("shoal %s: %v, want %q", args, err, want)
		}
	}
	if n.Index() != before {
		t.Errorf("wrong arguments reached the API (index %d → %d)", before, n.Index())
	}

	run("server remove security-group vm web")
	run("security-group rule delete " + rule.SecurityGroupRule.ID)
	has("security-group delete", run("security-group delete web"), "deleted security group web\n")
	has("floating-ip delete", run("floating-ip delete 10.66.0.200"), "deleted floating IP 10.66.0.200\n")
	has("network delete", run("network delete public"), "deleted network public\n")
}
