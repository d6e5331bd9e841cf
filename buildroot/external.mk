# Package makefiles of the burn station's BR2_EXTERNAL tree are included from here.
include $(sort $(wildcard $(BR2_EXTERNAL_BURNSTATION_PATH)/package/*/*.mk))
