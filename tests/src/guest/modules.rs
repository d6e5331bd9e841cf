//! Which kernel modules the guest loads, and in which order.
//!
//! The guest has no `modprobe` database, only `insmod`, so the harness works the order out on
//! the host from the kernel's own `modules.dep` (written by `depmod`): every module comes after
//! the modules it needs. Modules the kernel has built in (`modules.builtin`) need no loading.
//! Names compare as the kernel compares them: `usb-storage.ko` is the module `usb_storage`.

use std::collections::{BTreeMap, BTreeSet};

/// The modules of one kernel: what each needs, and which are built in.
#[derive(Debug, Default)]
pub struct ModuleIndex {
    /// Module name → its file (relative to `lib/modules/<release>/`) and what it needs.
    loadable: BTreeMap<String, LoadableModule>,
    builtin: BTreeSet<String>,
}

/// One module file the guest must load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadableModule {
    /// The module's name (`usb_storage`).
    pub name: String,
    /// Its file, relative to `lib/modules/<release>/` (`kernel/drivers/usb/storage/usb-storage.ko`).
    pub path: String,
    needs: Vec<String>,
}

/// A module the guest needs that this kernel does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the guest kernel has no module {0} (neither loadable nor built in): the module list in \
     tests/src/guest.rs names a module this kernel does not have"
)]
pub struct UnknownModule(pub String);

impl ModuleIndex {
    /// Reads `modules.dep` and `modules.builtin` of one kernel.
    pub fn parse(modules_dep: &str, modules_builtin: &str) -> ModuleIndex {
        let loadable = modules_dep
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(path, needs)| {
                let module = LoadableModule {
                    name: module_name(path),
                    path: path.trim().to_string(),
                    needs: needs.split_whitespace().map(module_name).collect(),
                };
                (module.name.clone(), module)
            })
            .collect();
        let builtin = modules_builtin
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(module_name)
            .collect();
        ModuleIndex { loadable, builtin }
    }

    /// The module files to load, each after everything it needs, for the modules `wanted`
    /// (in any spelling: `usb-storage` or `usb_storage`). Built-in modules are left out.
    pub fn load_order(&self, wanted: &[&str]) -> Result<Vec<LoadableModule>, UnknownModule> {
        let mut order = Vec::new();
        let mut placed = BTreeSet::new();
        for name in wanted {
            self.place(&module_name(name), &mut placed, &mut order)?;
        }
        Ok(order)
    }

    /// Depth first: a module's needs go in before it. `placed` is marked before recursing,
    /// so even a (malformed) dependency cycle ends.
    fn place(
        &self,
        name: &str,
        placed: &mut BTreeSet<String>,
        order: &mut Vec<LoadableModule>,
    ) -> Result<(), UnknownModule> {
        if placed.contains(name) || self.builtin.contains(name) {
            return Ok(());
        }
        let module = self
            .loadable
            .get(name)
            .ok_or_else(|| UnknownModule(name.to_string()))?;
        placed.insert(name.to_string());
        for need in &module.needs {
            self.place(need, placed, order)?;
        }
        order.push(module.clone());
        Ok(())
    }
}

/// The kernel's name for a module file: its base name without `.ko` (and any compression
/// suffix), with `-` spelled `_`.
pub fn module_name(path: &str) -> String {
    let file = path.trim().rsplit('/').next().unwrap_or_default();
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines from Debian's 6.1.0 amd64 kernel, after `depmod -b`.
    const DEP: &str = "\
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/scsi/sr_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko
kernel/drivers/cdrom/cdrom.ko:
kernel/drivers/usb/storage/usb-storage.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko
kernel/drivers/usb/core/usbcore.ko: kernel/drivers/usb/common/usb-common.ko
kernel/drivers/usb/common/usb-common.ko:
";
    const BUILTIN: &str = "kernel/fs/ext4/ext4.ko\nkernel/drivers/acpi/button.ko\n";

    fn names(order: &[LoadableModule]) -> Vec<&str> {
        order.iter().map(|m| m.name.as_str()).collect()
    }

    fn position(order: &[LoadableModule], name: &str) -> usize {
        order.iter().position(|m| m.name == name).unwrap()
    }

    #[test]
    fn every_module_comes_after_what_it_needs() {
        let index = ModuleIndex::parse(DEP, BUILTIN);
        let order = index
            .load_order(&["virtio_pci", "sr_mod", "usb_storage"])
            .unwrap();
        for module in &order {
            for need in &module.needs {
                assert!(
                    position(&order, need) < position(&order, &module.name),
                    "{need} must load before {} in {:?}",
                    module.name,
                    names(&order)
                );
            }
        }
        assert_eq!(order.len(), 12, "{:?}", names(&order));
    }

    #[test]
    fn each_module_is_loaded_once_even_when_shared() {
        let index = ModuleIndex::parse(DEP, BUILTIN);
        let order = index
            .load_order(&["sr_mod", "usb_storage", "scsi_mod"])
            .unwrap();
        assert_eq!(
            names(&order),
            [
                "scsi_common",
                "scsi_mod",
                "cdrom",
                "sr_mod",
                "usb_common",
                "usbcore",
                "usb_storage"
            ]
        );
        assert_eq!(order[6].path, "kernel/drivers/usb/storage/usb-storage.ko");
    }

    #[test]
    fn dashes_and_underscores_name_the_same_module() {
        let index = ModuleIndex::parse(DEP, BUILTIN);
        assert_eq!(
            index.load_order(&["usb-storage"]).unwrap(),
            index.load_order(&["usb_storage"]).unwrap()
        );
    }

    #[test]
    fn built_in_modules_are_not_loaded() {
        let index = ModuleIndex::parse(DEP, BUILTIN);
        assert_eq!(index.load_order(&["ext4", "button"]).unwrap(), []);
    }

    #[test]
    fn a_module_the_kernel_lacks_is_an_error_naming_it() {
        let index = ModuleIndex::parse(DEP, BUILTIN);
        let err = index.load_order(&["sr_mod", "9pnet_virtio"]).unwrap_err();
        assert_eq!(err, UnknownModule("9pnet_virtio".to_string()));
        assert!(
            err.to_string()
                .starts_with("the guest kernel has no module 9pnet_virtio")
        );
    }

    #[test]
    fn compressed_module_files_have_the_same_name() {
        assert_eq!(module_name("kernel/fs/9p/9p.ko.xz"), "9p");
        assert_eq!(
            module_name("kernel/drivers/usb/host/xhci-pci.ko.zst"),
            "xhci_pci"
        );
        assert_eq!(module_name("xhci-hcd"), "xhci_hcd");
    }
}
