package link

// SetSTP lets the tests make a bridge the way libvirt did with stp='on'.
var SetSTP = setSTP
