################################################################################
#
# burnstation
#
################################################################################

# The workspace's version (Cargo.toml; a test keeps the two equal).
BURNSTATION_VERSION = 0.1.0
# The source is the repository that holds this BR2_EXTERNAL tree, built as the
# workspace member station/ (the binary `burnstation`).
BURNSTATION_SITE = $(BR2_EXTERNAL_BURNSTATION_PATH)/..
BURNSTATION_SITE_METHOD = local
BURNSTATION_SUBDIR = station
BURNSTATION_LICENSE = MIT or Apache-2.0
# libudev (drive discovery) comes from systemd, libusb (USB identity and reset of the
# burner) from libusb; both are found with pkg-config by their -sys crates. SQLite is
# compiled in by rusqlite.
BURNSTATION_DEPENDENCIES = host-pkgconf libusb udev
BURNSTATION_INSTALL_IMAGES = YES

# Build outputs are not sources (the workspace's target/ can hold gigabytes).
BURNSTATION_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /target \
	--exclude /hal/fuzz/target \
	--exclude /images/fuzz/target

# Buildroot vendors the crates of downloaded cargo packages only; this one is local, so
# the repository brings its crates itself: `cargo xtask vendor` fills vendor/ from
# Cargo.lock (see docs/admin-guide.md, "Vendoring"), and cargo is pointed at it here.
BURNSTATION_VENDOR_CONFIG = \
	--config 'source.crates-io.replace-with="vendored-sources"' \
	--config 'source.vendored-sources.directory="$(BURNSTATION_DIR)/vendor"'
BURNSTATION_CARGO_BUILD_OPTS = $(BURNSTATION_VENDOR_CONFIG)
BURNSTATION_CARGO_INSTALL_OPTS = $(BURNSTATION_VENDOR_CONFIG)
BURNSTATION_CARGO_ENV = PKG_CONFIG_ALLOW_CROSS=1

# A vendor/ made for another Cargo.lock would fail later with a less helpful message.
define BURNSTATION_CHECK_VENDORED_CRATES
	@if ! cmp -s $(@D)/Cargo.lock $(@D)/vendor/.burnstation-Cargo.lock; then \
		echo "burnstation: vendor/ is missing or was made for another Cargo.lock;" \
			"run 'cargo xtask vendor' in $(BURNSTATION_SITE)" >&2; \
		exit 1; \
	fi
endef
BURNSTATION_POST_RSYNC_HOOKS += BURNSTATION_CHECK_VENDORED_CRATES

# The daemon runs unprivileged: the burner through group cdrom, the display and the
# buttons through i2c, spi and gpio (60-burnstation.rules). Its home is its data
# partition, where ssh finds nothing it must write.
define BURNSTATION_USERS
	burnstation -1 burnstation -1 * /data - cdrom,i2c,spi,gpio Burn station
endef

define BURNSTATION_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/burnstation.service \
		$(TARGET_DIR)/usr/lib/systemd/system/burnstation.service
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/burnstation-firstboot.service \
		$(TARGET_DIR)/usr/lib/systemd/system/burnstation-firstboot.service
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/burnstation-admin-ssh.service \
		$(TARGET_DIR)/usr/lib/systemd/system/burnstation-admin-ssh.service
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/sshd-burnstation.conf \
		$(TARGET_DIR)/usr/lib/systemd/system/sshd.service.d/burnstation.conf
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/burnstation.preset \
		$(TARGET_DIR)/usr/lib/systemd/system-preset/50-burnstation.preset
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/burnstation.tmpfiles \
		$(TARGET_DIR)/usr/lib/tmpfiles.d/burnstation.conf
endef

define BURNSTATION_INSTALL_SYSTEM_FILES
	$(INSTALL) -D -m 0755 $(BURNSTATION_PKGDIR)/firstboot \
		$(TARGET_DIR)/usr/libexec/burnstation/firstboot
	$(INSTALL) -D -m 0755 $(BURNSTATION_PKGDIR)/admin-ssh \
		$(TARGET_DIR)/usr/libexec/burnstation/admin-ssh
	$(INSTALL) -D -m 0755 $(BURNSTATION_PKGDIR)/settings-get \
		$(TARGET_DIR)/usr/libexec/burnstation/settings-get
	$(INSTALL) -D -m 0755 $(BURNSTATION_PKGDIR)/make-key \
		$(TARGET_DIR)/usr/libexec/burnstation/make-key
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/sshd_config \
		$(TARGET_DIR)/usr/share/burnstation/sshd_config
	$(INSTALL) -D -m 0644 $(BURNSTATION_PKGDIR)/60-burnstation.rules \
		$(TARGET_DIR)/usr/lib/udev/rules.d/60-burnstation.rules
endef
BURNSTATION_POST_INSTALL_TARGET_HOOKS += BURNSTATION_INSTALL_SYSTEM_FILES

# The settings file a volunteer edits goes on the boot partition (post-image.sh), as the
# repository has it: station/burnstation.toml is the schema the daemon reads.
define BURNSTATION_INSTALL_IMAGES_CMDS
	$(INSTALL) -D -m 0644 $(@D)/station/burnstation.toml \
		$(BINARIES_DIR)/burnstation.toml
endef

$(eval $(cargo-package))
