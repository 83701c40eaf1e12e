package fsm

import "fmt"

// CreateKeyPair stores a user's keypair, its fingerprint computed and its
// time stamped by the proposer. A name the user already has is a conflict
// (Nova's 409); one keypair more than the key_pairs quota of its project
// allows the user is over quota.
type CreateKeyPair struct {
	KeyPair KeyPair `json:"keypair"`
}

// DeleteKeyPair removes one of a user's keypairs. Servers keep the key they
// copied.
type DeleteKeyPair struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
}

func (*CreateKeyPair) Type() Type { return TypeCreateKeyPair }
func (*DeleteKeyPair) Type() Type { return TypeDeleteKeyPair }

func applyCreateKeyPair(s *State, index uint64, c Command) error {
	k := c.(*CreateKeyPair).KeyPair
	if err := validKeyPair(&k); err != nil {
		return err
	}
	if _, ok := s.KeyPairs[k.UserID][k.Name]; ok {
		return fmt.Errorf("%w: Key pair '%s' already exists.", ErrConflict, k.Name)
	}
	if k.ProjectID != "" {
		if err := checkQuota(QuotaKeyPairs, 1, s.keyPairsOf(k.UserID), s.quota(k.ProjectID).KeyPairs); err != nil {
			return err
		}
	}
	k.CreateIndex, k.ModifyIndex = index, index
	if s.KeyPairs == nil {
		s.KeyPairs = map[string]map[string]*KeyPair{}
	}
	if s.KeyPairs[k.UserID] == nil {
		s.KeyPairs[k.UserID] = map[string]*KeyPair{}
	}
	s.KeyPairs[k.UserID][k.Name] = &k
	return nil
}

func applyDeleteKeyPair(s *State, _ uint64, c Command) error {
	cmd := c.(*DeleteKeyPair)
	if _, ok := s.KeyPairs[cmd.UserID][cmd.Name]; !ok {
		return fmt.Errorf("%w: keypair %q of user %s", ErrNotFound, cmd.Name, cmd.UserID)
	}
	s.dropKeyPair(cmd.UserID, cmd.Name)
	return nil
}

// dropKeyPair forgets a keypair, and the user's entry with its last one, so
// that a state without keypairs snapshots as one that never had any.
func (s *State) dropKeyPair(userID, name string) {
	delete(s.KeyPairs[userID], name)
	if len(s.KeyPairs[userID]) == 0 {
		s.dropKeyPairsOf(userID)
	}
}

// dropKeyPairsOf forgets all of a user's keypairs (the user is deleted).
func (s *State) dropKeyPairsOf(userID string) {
	delete(s.KeyPairs, userID)
	if len(s.KeyPairs) == 0 {
		s.KeyPairs = nil
	}
}
