#!/bin/sh
# Post-image script of the QEMU twin, run after ../common/post-image.sh has made
# sdcard.img: writes start-qemu.sh, which boots that image the way a Pi boots its card.
set -eu

cat > "${BINARIES_DIR}/start-qemu.sh" <<'SCRIPT'
#!/bin/sh
# Boots the burn station image under QEMU (aarch64 "virt"), as a Pi boots its SD card:
# the kernel from this directory, the card as a virtio disk, with a watchdog, a USB host
# controller for a burner, and user-mode networking. Extra arguments go to QEMU, e.g. a
# burner served over iSCSI by tgt:
#   ./start-qemu.sh -drive file=iscsi://127.0.0.1:3260/iqn.2026-11.test:burner/1,if=none,id=burner,format=raw \
#     -device usb-bot,id=bot,bus=xhci.0 -device scsi-generic,drive=burner,bus=bot.0
# The card is a copy (card.img, made once and 2 GiB large), so the first boot has room to
# grow the data partition and sdcard.img stays as built. SSH_PORT=2222 forwards that host
# port to the box's ssh (which runs only when its settings enable administrator access).
set -eu
cd "$(dirname "$0")"
if [ ! -e card.img ]; then
	cp sdcard.img card.img
	truncate -s 2G card.img
fi
exec qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -nographic \
	-kernel Image \
	-append "root=PARTUUID=6275726e-02 rootfstype=squashfs ro rootwait console=ttyAMA0 net.ifnames=0" \
	-drive file=card.img,if=none,format=raw,id=card -device virtio-blk-pci,drive=card \
	-netdev "user,id=net0${SSH_PORT:+,hostfwd=tcp:127.0.0.1:${SSH_PORT}-:22}" \
	-device virtio-net-pci,netdev=net0 \
	-device i6300esb -device qemu-xhci,id=xhci \
	"$@"
SCRIPT
chmod 0755 "${BINARIES_DIR}/start-qemu.sh"
