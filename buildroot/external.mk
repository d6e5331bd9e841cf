# The burn station's BR2_EXTERNAL tree is written for one buildroot release series, the
# LTS that ships the Rust toolchain the workspace's rust-version names (buildroot.pin).
ifeq ($(filter 2026.02 2026.02.%,$(BR2_VERSION)),)
$(error the burn station's BR2_EXTERNAL tree needs buildroot 2026.02.x (see $(BR2_EXTERNAL_BURNSTATION_PATH)/buildroot.pin), this is $(BR2_VERSION))
endif

include $(sort $(wildcard $(BR2_EXTERNAL_BURNSTATION_PATH)/package/*/*.mk))
