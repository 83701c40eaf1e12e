# shellcheck shell=bash
# Shared by the scripts that build a disk image from a debootstrap tree in a
# chroot (build-cloud-image.sh, vagrant/build-box.sh). Source it.

# image_build_cleanup ROOTFS MNT LOOP WORK undoes what such a build set up,
# whatever point it reached: the chroot's and the image's mounts, the loop
# device, the work directory. Run it from an EXIT trap in single quotes, so
# it sees the variables as they are when the script ends.
image_build_cleanup() {
	set +e
	local m
	for m in "$1/dev/pts" "$1/dev" "$1/proc" "$1/sys" "$2"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	[[ -n $3 ]] && losetup -d "$3"
	rm -rf "$4"
}
