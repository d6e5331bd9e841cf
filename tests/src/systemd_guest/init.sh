#!/bin/busybox sh
# /init of the systemd guest's initramfs (built by tests/src/systemd_guest.rs): the Debian
# kernel has as modules what the image's kernel builds in, so this loads them
# (/modules/order, in dependency order), mounts the card's root partition read-only as the
# image's kernel does (root=PARTUUID=6275726e-02 rootfstype=squashfs ro: the guest's only
# disk is /dev/vda), and hands over to systemd. Lines starting "systest-init:" mark its steps.

/bin/busybox mkdir -p /proc /sys /dev /newroot /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "systest-init: $* (at $(cut -d' ' -f1 /proc/uptime) s)"; }
give_up() {
    say "$1; powering off"
    poweroff -f
    reboot -f
}

while read -r module; do
    insmod "/modules/$module.ko" || say "could not load module $module"
done < /modules/order
say "modules loaded"

root=/dev/vda2
waited=0
while [ ! -b "$root" ] && [ "$waited" -lt 300 ]; do
    sleep 0.1
    waited=$((waited + 1))
done
[ -b "$root" ] || give_up "no root partition $root appeared"
mount -t squashfs -o ro "$root" /newroot || give_up "could not mount $root"
say "root filesystem mounted, starting systemd"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
