#!/bin/sh
# customize.sh ROOT USER GROUPS UNITS...: mmdebstrap's customize hook for the systemd
# guest's root filesystem (tests/src/systemd_guest.rs), run after the tree's files are in
# ROOT. It does what buildroot does to the image and Debian does not:
# - the package's user (BURNSTATION_USERS: USER, with the comma-separated GROUPS);
# - sshd as buildroot's openssh has it: sshd.service, no host keys in /etc (Debian's own
#   ssh.service and its keys are switched off);
# - a tmpfs on /tmp, as systemd upstream installs it;
# - the presets of the tree for the units it names (UNITS), and the test's own unit;
# - an empty /etc/machine-id (a read-only root gets a fresh one at each boot) and the
#   hostname;
# - /var/run and /var/lock as buildroot's skeleton makes them (relative links), under the
#   overlay buildroot mounts on /var (var.mount, prepare-var-overlay.service).
set -eu

root=$1
user=$2
groups=$3
shift 3

for group in $(echo "$groups" | tr ',' ' '); do
	chroot "$root" groupadd --system --force "$group"
done
chroot "$root" useradd --system --user-group --groups "$groups" --home-dir /data \
	--no-create-home --shell /bin/false "$user"

chroot "$root" systemctl disable ssh.service ssh.socket 2>/dev/null || true
chroot "$root" systemctl mask ssh.service ssh.socket
rm -f "$root"/etc/ssh/ssh_host_*

# systemd, as buildroot builds it, mounts a tmpfs on /tmp; Debian 12 keeps that unit aside.
if [ -e "$root/usr/share/systemd/tmp.mount" ]; then
	cp "$root/usr/share/systemd/tmp.mount" "$root/usr/lib/systemd/system/tmp.mount"
fi
chroot "$root" systemctl enable tmp.mount

chroot "$root" systemctl preset "$@"
chroot "$root" systemctl enable systest.service

: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo burnstation > "$root/etc/hostname"

ln -sfn ../run "$root/var/run"
ln -sfn ../run/lock "$root/var/lock"
