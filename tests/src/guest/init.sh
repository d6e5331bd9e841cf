#!/bin/busybox sh
# /init of the system-test guest (built by tests/src/guest.rs; contract in docs/testing.md).
#
# Mounts the basics, loads the modules listed in /modules/order (already in dependency order),
# mounts the host's 9p share, waits for the optical drive, copies the shared libraries of the
# host binaries into place, runs /share/scenario.sh, writes its stdout, stderr and exit code
# to /share/out/, and powers off. Lines starting "systest-init:" on the console mark each step
# (the harness reads none of them; they are for people reading a failed run's console).
#
# Exit codes it writes itself, when the scenario never ran:
#   125  no optical drive appeared
#   126  the shared libraries could not be copied into place

/bin/busybox mkdir -p /proc /sys /dev /tmp /share /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
export PATH=/share/files:/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "systest-init: $* (at $(cut -d' ' -f1 /proc/uptime) s)"; }
halt() {
    sync
    umount /share 2>/dev/null
    poweroff -f
    # Only reached if ACPI power-off failed; QEMU runs with -no-reboot, so this ends it too.
    reboot -f
}

say "init started"
while read -r module; do
    insmod "/modules/$module.ko" || say "could not load module $module"
done < /modules/order
say "modules loaded"

if ! mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144 share /share; then
    say "could not mount the host share; the harness will find no results"
    halt
fi
mkdir -p /share/out

finish() {
    echo "$1" > /share/out/exit_code
    say "scenario exit code $1"
    halt
}

# The drive: its block device and its SCSI generic twin (sg attaches a moment after sr).
waited=0
sg=""
while [ "$waited" -lt 600 ]; do
    if [ -b /dev/sr0 ]; then
        for path in /sys/block/sr0/device/scsi_generic/sg*; do
            [ -e "$path" ] && sg="/dev/${path##*/}"
        done
        [ -n "$sg" ] && [ -c "$sg" ] && break
    fi
    sleep 0.1
    waited=$((waited + 1))
done
if [ -z "$sg" ] || [ ! -c "$sg" ]; then
    say "no optical drive appeared within 60 s"
    {
        echo "systest-init: no optical drive (/dev/sr0 with its /dev/sgN) appeared within 60 s"
        echo "SCSI devices seen:"
        cat /proc/scsi/scsi
    } > /share/out/stderr
    : > /share/out/stdout
    finish 125
fi
export DRIVE=/dev/sr0 SG_DEVICE="$sg" FILES=/share/files
say "drive ready: $DRIVE $SG_DEVICE"

if [ -d /share/sysroot ]; then
    if ! cp -a /share/sysroot/. /; then
        echo "systest-init: could not copy the shared libraries into place" > /share/out/stderr
        : > /share/out/stdout
        finish 126
    fi
fi

say "scenario starting"
cd /tmp
sh /share/scenario.sh > /share/out/stdout 2> /share/out/stderr
finish "$?"
