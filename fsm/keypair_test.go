package fsm_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// Keys of the tests: shapes only (Apply does not parse keys).
const (
	sshKeyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA a@example"
	sshKeyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	fpA     = "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"
	script  = "IyEvYmluL3NoCmVjaG8gaGVsbG8K" // "#!/bin/sh\necho hello\n"
)

// keyPair is user's keypair name of project p1.
func keyPair(user, name string) *fsm.CreateKeyPair {
	return &fsm.CreateKeyPair{KeyPair: fsm.KeyPair{Name: name, UserID: user, ProjectID: "p1", PublicKey: sshKeyA,
		Fingerprint: fpA, Type: fsm.KeyPairTypeSSH, Created: t1}}
}

func TestKeyPairs(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(keyPair("u1", "laptop"), keyPair("u1", "desk"), keyPair("u2", "laptop"))
	if got := w.f.KeyPairsOf("u1"); len(got) != 2 || got[0].Name != "desk" || got[1].Name != "laptop" {
		t.Fatalf("KeyPairsOf(u1) = %+v, want desk and laptop", got)
	}
	k, err := w.f.KeyPair("u2", "laptop")
	want := keyPair("u2", "laptop").KeyPair
	want.CreateIndex, want.ModifyIndex = k.CreateIndex, k.CreateIndex
	if err != nil || !reflect.DeepEqual(k, want) || k.CreateIndex == 0 {
		t.Errorf("KeyPair(u2, laptop) = %+v, %v; want %+v", k, err, want)
	}
	err = w.refuse(keyPair("u1", "laptop"), fsm.ErrConflict)
	if !strings.Contains(err.Error(), "Key pair 'laptop' already exists.") {
		t.Errorf("duplicate: %v, want Nova's message", err)
	}
	w.must(&fsm.DeleteKeyPair{UserID: "u1", Name: "laptop"})
	if _, err := w.f.KeyPair("u1", "laptop"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("deleted keypair: %v", err)
	}
	if got := w.f.KeyPairsOf("u2"); len(got) != 1 {
		t.Errorf("another user's keypair of the same name went too: %+v", got)
	}
	w.refuse(&fsm.DeleteKeyPair{UserID: "u1", Name: "laptop"}, fsm.ErrNotFound)
	w.refuse(&fsm.DeleteKeyPair{UserID: "u3", Name: "desk"}, fsm.ErrNotFound)
}

// Bad input is refused with ErrInvalid and changes nothing but the index.
func TestKeyPairRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*fsm.KeyPair)
	}{
		{"no user", func(k *fsm.KeyPair) { k.UserID = "" }},
		{"no name", func(k *fsm.KeyPair) { k.Name = "" }},
		{"name too long", func(k *fsm.KeyPair) { k.Name = strings.Repeat("k", 256) }},
		{"name with a slash", func(k *fsm.KeyPair) { k.Name = "a/b" }},
		{"name with a leading space", func(k *fsm.KeyPair) { k.Name = " key" }},
		{"name not ASCII", func(k *fsm.KeyPair) { k.Name = "clé" }},
		{"type rsa", func(k *fsm.KeyPair) { k.Type = "rsa" }},
		{"x509 without a certificate", func(k *fsm.KeyPair) { k.Type = "x509"; k.PublicKey = " \n " }},
		{"x509 with a control character", func(k *fsm.KeyPair) { k.Type = "x509"; k.PublicKey = "-----BEGIN\x00" }},
		{"no type", func(k *fsm.KeyPair) { k.Type = "" }},
		{"no key", func(k *fsm.KeyPair) { k.PublicKey = "  " }},
		{"two lines", func(k *fsm.KeyPair) { k.PublicKey = sshKeyA + "\n" + sshKeyB }},
		{"key too long", func(k *fsm.KeyPair) { k.PublicKey = "ssh-rsa " + strings.Repeat("A", 20000) }},
		{"no fingerprint", func(k *fsm.KeyPair) { k.Fingerprint = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			c := keyPair("u1", "k")
			tc.change(&c.KeyPair)
			w.refuse(c, fsm.ErrInvalid)
		})
	}
	if err := fsm.ValidKeyPairName("my key@host.example_1-2"); err != nil {
		t.Errorf("Nova 2.92's characters refused: %v", err)
	}
}

// key_pairs counts a user's keypairs against the limit of the project the
// keypair is made in; other users of the project have their own count.
func TestKeyPairQuota(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{KeyPairs: ptr(2)}},
		keyPair("u1", "a"), keyPair("u1", "b"), keyPair("u2", "a"), keyPair("u2", "b"))
	err := w.refuse(keyPair("u1", "c"), fsm.ErrOverQuota)
	var q *fsm.QuotaError
	if !errors.As(err, &q) || q.Resource != fsm.QuotaKeyPairs || err.Error() != "Quota exceeded, too many key pairs." {
		t.Errorf("over quota: %v, want Nova's message", err)
	}
	w.must(&fsm.DeleteKeyPair{UserID: "u1", Name: "a"}, keyPair("u1", "c"))
	w.must(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{KeyPairs: ptr(fsm.Unlimited)}}, keyPair("u1", "d"))
	w.must(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{KeyPairs: ptr(0)}})
	w.refuse(keyPair("u3", "a"), fsm.ErrOverQuota)
}

// A server keeps the key it was created with, whatever happens to the
// keypair; bad boot data refuses the whole create.
func TestInstanceBootData(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(keyPair("u1", "laptop"))
	c := createCmd("i-1")
	c.Instances[0].KeyName, c.Instances[0].KeyData = "laptop", sshKeyA
	c.Instances[0].UserData, c.Instances[0].ConfigDrive = script, true
	w.must(c, &fsm.DeleteKeyPair{UserID: "u1", Name: "laptop"})
	i := w.inst("i-1")
	if i.KeyName != "laptop" || i.KeyData != sshKeyA || i.UserData != script || !i.ConfigDrive {
		t.Errorf("server = key %q %q, user data %q, config drive %v", i.KeyName, i.KeyData, i.UserData, i.ConfigDrive)
	}
	wrapped := "IyEvYmluL3NoCmVj\naG8gaGVsbG8K"
	for _, tc := range []struct {
		name   string
		change func(*fsm.NewInstance)
		valid  bool
	}{
		{"user data wrapped by base64(1)", func(n *fsm.NewInstance) { n.UserData = wrapped }, true},
		{"user data at the limit", func(n *fsm.NewInstance) { n.UserData = strings.Repeat("AAAA", fsm.MaxUserDataLen/4) }, true},
		{"user data too long", func(n *fsm.NewInstance) { n.UserData = strings.Repeat("AAAA", fsm.MaxUserDataLen/4+1) }, false},
		{"user data not base64", func(n *fsm.NewInstance) { n.UserData = "#!/bin/sh" }, false},
		{"user data badly padded", func(n *fsm.NewInstance) { n.UserData = "QQ" }, false},
		{"key name without data", func(n *fsm.NewInstance) { n.KeyName = "laptop" }, false},
		{"key data without name", func(n *fsm.NewInstance) { n.KeyData = sshKeyA }, false},
		{"bad key name", func(n *fsm.NewInstance) { n.KeyName, n.KeyData = "a/b", sshKeyA }, false},
		{"key data of two lines", func(n *fsm.NewInstance) { n.KeyName, n.KeyData = "k", sshKeyA+"\n"+sshKeyB }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := createCmd("i-2", "i-3")
			tc.change(&c.Instances[1])
			if !tc.valid {
				w.refuse(c, fsm.ErrInvalid)
				return
			}
			w.must(c)
			w.must(actionCmd("i-2", fsm.ActionDelete), actionCmd("i-3", fsm.ActionDelete))
		})
	}
}

// Deleting a user deletes its keypairs; with the last one gone the state
// snapshots as if there had never been any.
func TestKeyPairsGoWithTheirUser(t *testing.T) {
	f, next := identityWorld(t)
	before := snapshotBytes(t, f)
	next = mustApply(t, f, next, keyPair("u2", "a"), keyPair("u2", "b"), keyPair("u1", "a"))
	next = mustApply(t, f, next, &fsm.DeleteUser{ID: "u2"})
	if got := f.KeyPairsOf("u2"); len(got) != 0 {
		t.Errorf("a deleted user's keypairs stayed: %+v", got)
	}
	if got := f.KeyPairsOf("u1"); len(got) != 1 {
		t.Errorf("another user's keypairs went: %+v", got)
	}
	mustApply(t, f, next, &fsm.DeleteKeyPair{UserID: "u1", Name: "a"})
	after := snapshotBytes(t, f)
	if bytes.Contains(after, []byte("key_pairs")) || !bytes.Contains(before, []byte(`"users"`)) {
		t.Errorf("an empty keypair table is in the snapshot:\n%s", after)
	}
}

// Keypairs and servers' boot data survive a snapshot and restore exactly.
func TestKeyPairSnapshotRoundTrip(t *testing.T) {
	w := newWorld(t, testCIDR)
	c := createCmd("i-1")
	c.Instances[0].KeyName, c.Instances[0].KeyData, c.Instances[0].UserData, c.Instances[0].ConfigDrive = "k", sshKeyB, script, true
	w.must(keyPair("u1", "k"), keyPair("u2", "k"), keyPair("u1", "a b"), c)
	snap := snapshotBytes(t, w.f)
	g := fsm.New()
	restore(t, g, snap)
	if again := snapshotBytes(t, g); !bytes.Equal(snap, again) {
		t.Fatalf("restored snapshot differs:\n%s\n%s", snap, again)
	}
	assertSameReads(t, w.f, g)
	if i, _ := g.Instance("i-1"); i.KeyData != sshKeyB || i.UserData != script || !i.ConfigDrive {
		t.Errorf("restored server lost its boot data: %+v", i)
	}
}
