#!/bin/bash
# Post-image script of every burn station board: the card image (sdcard.img) from
# genimage.cfg.in. The boot partition gets burnstation.toml (installed by the burnstation
# package) and, on a Raspberry Pi, the firmware, config.txt, cmdline.txt, the device trees
# and the kernel.
set -euo pipefail

BOARD_COMMON_DIR="$(dirname "$0")"
GENIMAGE_CFG="${BINARIES_DIR}/genimage.cfg"
GENIMAGE_TMP="${BUILD_DIR}/genimage.tmp"

boot_files=(burnstation.toml)
if [ -d "${BINARIES_DIR}/rpi-firmware" ]; then
	for file in "${BINARIES_DIR}"/*.dtb "${BINARIES_DIR}"/rpi-firmware/*; do
		boot_files+=("${file#"${BINARIES_DIR}"/}")
	done
	boot_files+=("$(sed -n 's/^kernel=//p' "${BINARIES_DIR}/rpi-firmware/config.txt")")
fi

listed=""
for file in "${boot_files[@]}"; do
	listed+="\t\t\t\"${file}\",\n"
done
sed "s|^#BOOT_FILES#$|${listed}|" "${BOARD_COMMON_DIR}/genimage.cfg.in" > "${GENIMAGE_CFG}"

# genimage copies its root path whole: give it an empty one, since the root filesystem
# arrives already made (rootfs.squashfs).
ROOTPATH_TMP="$(mktemp -d)"
trap 'rm -rf "${ROOTPATH_TMP}"' EXIT
rm -rf "${GENIMAGE_TMP}"

genimage \
	--rootpath "${ROOTPATH_TMP}" \
	--tmppath "${GENIMAGE_TMP}" \
	--inputpath "${BINARIES_DIR}" \
	--outputpath "${BINARIES_DIR}" \
	--config "${GENIMAGE_CFG}"
