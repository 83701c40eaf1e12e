// Package fsmtest helps the tests of the packages above fsm drive a real FSM
// without a cluster, so that the FSM's own rules run in their tests.
//
// fsmtest imports fsm, never the other way: fsm imports no project package.
package fsmtest
