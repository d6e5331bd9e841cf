#!/bin/sh
# Post-build script of every burn station board: the mount points of the boot and data
# partitions must exist on the read-only root filesystem (see rootfs-overlay/etc/fstab).
set -eu

mkdir -p "${TARGET_DIR}/boot" "${TARGET_DIR}/data"
