#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys
import OCISpec

/// The five capability sets of process.capabilities as bit masks, applied in the
/// order the kernel requires: bounding set first (while CAP_SETPCAP is still held),
/// then effective/permitted/inheritable after the user switch, then ambient.
struct CapabilitySets {
    var bounding: UInt64 = 0
    var effective: UInt64 = 0
    var permitted: UInt64 = 0
    var inheritable: UInt64 = 0
    var ambient: UInt64 = 0
    /// The highest capability this kernel knows (cap_last_cap).
    let lastCapability: Int

    /// Capabilities named in the config but unknown to this kernel are left out, as runc
    /// does; their names are returned for a warning.
    init(_ caps: Capabilities, lastCapability: Int) {
        self.lastCapability = lastCapability
        func mask(_ names: [String]?) -> UInt64 {
            var value: UInt64 = 0
            for name in names ?? [] {
                if let number = Vocabulary.capabilityNumber(name), number <= lastCapability { value |= 1 << UInt64(number) }
            }
            return value
        }
        bounding = mask(caps.bounding)
        effective = mask(caps.effective)
        permitted = mask(caps.permitted)
        inheritable = mask(caps.inheritable)
        ambient = mask(caps.ambient)
    }

    static func unknownToKernel(_ caps: Capabilities, lastCapability: Int) -> [String] {
        let all = (caps.bounding ?? []) + (caps.effective ?? []) + (caps.permitted ?? []) + (caps.inheritable ?? []) + (caps.ambient ?? [])
        return Array(Set(all.filter { (Vocabulary.capabilityNumber($0) ?? 0) > lastCapability })).sorted()
    }

    static func readLastCapability() -> Int {
        Int((try? Files.readTrimmed("/proc/sys/kernel/cap_last_cap")) ?? "") ?? 40
    }

    func dropBounding() throws(SysError) {
        for cap in 0...lastCapability where bounding & (1 << UInt64(cap)) == 0 {
            // PR_CAPBSET_DROP
            if caisson_prctl(24, UInt(cap), 0, 0, 0) != 0 && errno != EINVAL {
                throw SysError("drop capability \(Vocabulary.capabilities[cap]) from the bounding set")
            }
        }
    }

    func applySets() throws(SysError) {
        // Nobody can grant a capability it does not hold (this host's root lacks
        // CAP_SYS_RESOURCE, for one): keep what we have and say what was left out.
        var heldEffective: UInt64 = 0, held: UInt64 = 0, heldInheritable: UInt64 = 0
        var effective = effective, permitted = permitted, inheritable = inheritable
        if caisson_capget(&heldEffective, &held, &heldInheritable) == 0 {
            let missing = (effective | permitted | inheritable) & ~held
            if missing != 0 {
                let names = (0...lastCapability).filter { missing & (1 << UInt64($0)) != 0 }.map { Vocabulary.capabilities[$0] }
                RuntimeLog.shared.warn("capabilities \(names.joined(separator: ", ")) are not held by the runtime and cannot be granted")
                effective &= held
                permitted &= held
                inheritable &= held
            }
        }
        if caisson_capset(effective, permitted, inheritable) != 0 {
            throw SysError("set capabilities (capset)")
        }
        // PR_CAP_AMBIENT(47): CLEAR_ALL(4), then RAISE(2) each.
        _ = caisson_prctl(47, 4, 0, 0, 0)
        for cap in 0...lastCapability where ambient & (1 << UInt64(cap)) != 0 {
            // The kernel allows ambient only for caps also permitted and inheritable; runc's
            // default config lists ambient without inheritable, so this is a warning.
            if caisson_prctl(47, 2, UInt(cap), 0, 0) != 0 {
                RuntimeLog.shared.debug("ambient capability \(Vocabulary.capabilities[cap]) not raised: it must also be permitted and inheritable")
            }
        }
    }
}
