package fsm_test

import (
	"errors"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// The security_groups and security_group_rules quotas count the groups a
// project made and their rules (not its default group): at the limit a
// create is refused with Nova's message and changes nothing; the default
// group's rules are not limited; a lower limit than what is held is
// refused by the API, not here.
func TestSecurityGroupQuotas(t *testing.T) {
	w := netWorld(t)
	w.must(secGroupCmd("sg-web", "p1", "web", rule("r1", "", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(80), ptr(80))))
	if u := w.f.ProjectUsage("p1"); u.SecurityGroups != 1 || u.SecurityGroupRules != 1 {
		t.Errorf("usage = %+v, want 1 group and 1 rule", u)
	}
	one := 1
	w.must(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{SecurityGroups: &one, SecurityGroupRules: &one}})

	err := w.refuse(secGroupCmd("sg-db", "p1", "db"), fsm.ErrOverQuota)
	var qe *fsm.QuotaError
	if !errors.As(err, &qe) || err.Error() != "Quota exceeded, too many security groups." {
		t.Errorf("a second group at a limit of 1: %v", err)
	}
	r2 := rule("r2", "sg-web", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(22), ptr(22))
	r2.ProjectID = "p1"
	err = w.refuse(&fsm.CreateSecurityGroupRule{Rule: r2}, fsm.ErrOverQuota)
	if err.Error() != "Quota exceeded, too many security group rules." {
		t.Errorf("a second rule at a limit of 1: %v", err)
	}
	// The default group is not counted: its rules go in.
	r3 := rule("r3", fsm.DefaultSecurityGroupID("p1"), fsm.DirectionIngress, fsm.ProtocolTCP, ptr(22), ptr(22))
	r3.ProjectID = "p1"
	w.must(&fsm.CreateSecurityGroupRule{Rule: r3})
	// Another project is not limited by p1's quota.
	w.must(secGroupCmd("sg-db", "p2", "db"))
}
