import CaissonJSON

/// config.json read directly from the parsed JSON (see JSONFields for why). Field names
/// are the runtime-spec's, as in the types' Codable conformance; unknown fields are
/// ignored, as the spec requires.
extension Spec {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init(ociVersion: try f.string("ociVersion"))
        process = try f.optionalObject("process") { (f) throws(ConfigError) in try Process(fields: f) }
        root = try f.optionalObject("root") { (f) throws(ConfigError) in Root(path: try f.string("path"), readonly: try f.optionalBool("readonly")) }
        hostname = try f.optionalString("hostname")
        domainname = try f.optionalString("domainname")
        mounts = try f.optionalArray("mounts") { (f) throws(ConfigError) in try Mount(fields: f) }
        hooks = try f.optionalObject("hooks") { (f) throws(ConfigError) in try Hooks(fields: f) }
        annotations = try f.optionalStringMap("annotations")
        linux = try f.optionalObject("linux") { (f) throws(ConfigError) in try Linux(fields: f) }
    }
}

extension Process {
    init(fields f: JSONFields) throws(ConfigError) {
        // As runc reads it (Go's zero values): no user, uid or gid means 0.
        self.init(user: try f.optionalObject("user") { (f) throws(ConfigError) in try User(fields: f) } ?? User(),
                  cwd: try f.string("cwd"))
        terminal = try f.optionalBool("terminal")
        consoleSize = try f.optionalObject("consoleSize") { (f) throws(ConfigError) in
            ConsoleSize(height: try f.integer("height"), width: try f.integer("width"))
        }
        args = try f.optionalStrings("args")
        commandLine = try f.optionalString("commandLine")
        env = try f.optionalStrings("env")
        capabilities = try f.optionalObject("capabilities") { (f) throws(ConfigError) in
            Capabilities(bounding: try f.optionalStrings("bounding"), effective: try f.optionalStrings("effective"),
                         inheritable: try f.optionalStrings("inheritable"), permitted: try f.optionalStrings("permitted"),
                         ambient: try f.optionalStrings("ambient"))
        }
        rlimits = try f.optionalArray("rlimits") { (f) throws(ConfigError) in
            Rlimit(type: try f.string("type"), hard: try f.integer("hard"), soft: try f.integer("soft"))
        }
        noNewPrivileges = try f.optionalBool("noNewPrivileges")
        apparmorProfile = try f.optionalString("apparmorProfile")
        oomScoreAdj = try f.optionalInteger("oomScoreAdj")
        selinuxLabel = try f.optionalString("selinuxLabel")
        ioPriority = try f.optionalObject("ioPriority") { (f) throws(ConfigError) in
            IOPriority(class: try f.string("class"), priority: try f.optionalInteger("priority"))
        }
        scheduler = try f.optionalObject("scheduler") { (f) throws(ConfigError) in
            Scheduler(policy: try f.string("policy"), nice: try f.optionalInteger("nice"), priority: try f.optionalInteger("priority"),
                      flags: try f.optionalStrings("flags"), runtime: try f.optionalInteger("runtime"),
                      deadline: try f.optionalInteger("deadline"), period: try f.optionalInteger("period"))
        }
        execCPUAffinity = try f.optionalObject("execCPUAffinity") { (f) throws(ConfigError) in
            ExecCPUAffinity(initial: try f.optionalString("initial"), final: try f.optionalString("final"))
        }
    }
}

extension User {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init(uid: try f.optionalInteger("uid") ?? 0, gid: try f.optionalInteger("gid") ?? 0, umask: try f.optionalInteger("umask"),
                  additionalGids: try f.member("additionalGids").map { (value) throws(ConfigError) in
                      try JSONFields.array(value, f.child("additionalGids")) { (item, path) throws(ConfigError) in try JSONFields.integer(item, path) }
                  })
        username = try f.optionalString("username")
    }
}

extension Mount {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init(destination: try f.string("destination"), type: try f.optionalString("type"),
                  source: try f.optionalString("source"), options: try f.optionalStrings("options"))
        uidMappings = try f.optionalArray("uidMappings") { (f) throws(ConfigError) in try IDMapping(fields: f) }
        gidMappings = try f.optionalArray("gidMappings") { (f) throws(ConfigError) in try IDMapping(fields: f) }
    }
}

extension IDMapping {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init(containerID: try f.integer("containerID"), hostID: try f.integer("hostID"), size: try f.integer("size"))
    }
}

extension Hooks {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init()
        func hooks(_ key: String) throws(ConfigError) -> [Hook]? {
            try f.optionalArray(key) { (f) throws(ConfigError) in
                Hook(path: try f.string("path"), args: try f.optionalStrings("args"), env: try f.optionalStrings("env"),
                     timeout: try f.optionalInteger("timeout"))
            }
        }
        prestart = try hooks("prestart")
        createRuntime = try hooks("createRuntime")
        createContainer = try hooks("createContainer")
        startContainer = try hooks("startContainer")
        poststart = try hooks("poststart")
        poststop = try hooks("poststop")
    }
}

extension Linux {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init()
        uidMappings = try f.optionalArray("uidMappings") { (f) throws(ConfigError) in try IDMapping(fields: f) }
        gidMappings = try f.optionalArray("gidMappings") { (f) throws(ConfigError) in try IDMapping(fields: f) }
        sysctl = try f.optionalStringMap("sysctl")
        resources = try f.optionalObject("resources") { (f) throws(ConfigError) in try Resources(fields: f) }
        cgroupsPath = try f.optionalString("cgroupsPath")
        namespaces = try f.optionalArray("namespaces") { (f) throws(ConfigError) in
            Namespace(type: try f.string("type"), path: try f.optionalString("path"))
        }
        devices = try f.optionalArray("devices") { (f) throws(ConfigError) in
            Device(type: try f.string("type"), path: try f.string("path"), major: try f.optionalInteger("major"),
                   minor: try f.optionalInteger("minor"), fileMode: try f.optionalInteger("fileMode"),
                   uid: try f.optionalInteger("uid"), gid: try f.optionalInteger("gid"))
        }
        seccomp = try f.optionalObject("seccomp") { (f) throws(ConfigError) in try Seccomp(fields: f) }
        rootfsPropagation = try f.optionalString("rootfsPropagation")
        maskedPaths = try f.optionalStrings("maskedPaths")
        readonlyPaths = try f.optionalStrings("readonlyPaths")
        mountLabel = try f.optionalString("mountLabel")
        intelRdt = try f.optionalObject("intelRdt") { (f) throws(ConfigError) in
            IntelRdt(closID: try f.optionalString("closID"), l3CacheSchema: try f.optionalString("l3CacheSchema"),
                     memBwSchema: try f.optionalString("memBwSchema"))
        }
        personality = try f.optionalObject("personality") { (f) throws(ConfigError) in
            Personality(domain: try f.string("domain"), flags: try f.optionalStrings("flags"))
        }
        timeOffsets = try f.optionalObjectMap("timeOffsets") { (f) throws(ConfigError) in
            TimeOffset(secs: try f.optionalInteger("secs"), nanosecs: try f.optionalInteger("nanosecs"))
        }
    }
}

extension Seccomp {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init(defaultAction: try f.string("defaultAction"))
        defaultErrnoRet = try f.optionalInteger("defaultErrnoRet")
        architectures = try f.optionalStrings("architectures")
        flags = try f.optionalStrings("flags")
        listenerPath = try f.optionalString("listenerPath")
        listenerMetadata = try f.optionalString("listenerMetadata")
        syscalls = try f.optionalArray("syscalls") { (f) throws(ConfigError) in
            SeccompSyscall(names: try f.optionalStrings("names") ?? [], action: try f.string("action"),
                           errnoRet: try f.optionalInteger("errnoRet"),
                           args: try f.optionalArray("args") { (f) throws(ConfigError) in
                               SeccompArg(index: try f.integer("index"), value: try f.integer("value"),
                                          valueTwo: try f.optionalInteger("valueTwo"), op: try f.string("op"))
                           })
        }
    }
}

extension Resources {
    init(fields f: JSONFields) throws(ConfigError) {
        self.init()
        devices = try f.optionalArray("devices") { (f) throws(ConfigError) in
            DeviceCgroupRule(allow: try f.bool("allow"), type: try f.optionalString("type"), major: try f.optionalInteger("major"),
                             minor: try f.optionalInteger("minor"), access: try f.optionalString("access"))
        }
        memory = try f.optionalObject("memory") { (f) throws(ConfigError) in
            var memory = Memory()
            memory.limit = try f.optionalInteger("limit")
            memory.reservation = try f.optionalInteger("reservation")
            memory.swap = try f.optionalInteger("swap")
            memory.kernel = try f.optionalInteger("kernel")
            memory.kernelTCP = try f.optionalInteger("kernelTCP")
            memory.swappiness = try f.optionalInteger("swappiness")
            memory.disableOOMKiller = try f.optionalBool("disableOOMKiller")
            memory.useHierarchy = try f.optionalBool("useHierarchy")
            memory.checkBeforeUpdate = try f.optionalBool("checkBeforeUpdate")
            return memory
        }
        cpu = try f.optionalObject("cpu") { (f) throws(ConfigError) in
            var cpu = CPU()
            cpu.shares = try f.optionalInteger("shares")
            cpu.quota = try f.optionalInteger("quota")
            cpu.burst = try f.optionalInteger("burst")
            cpu.period = try f.optionalInteger("period")
            cpu.realtimeRuntime = try f.optionalInteger("realtimeRuntime")
            cpu.realtimePeriod = try f.optionalInteger("realtimePeriod")
            cpu.cpus = try f.optionalString("cpus")
            cpu.mems = try f.optionalString("mems")
            cpu.idle = try f.optionalInteger("idle")
            return cpu
        }
        pids = try f.optionalObject("pids") { (f) throws(ConfigError) in Pids(limit: try f.integer("limit")) }
        blockIO = try f.optionalObject("blockIO") { (f) throws(ConfigError) in
            var io = BlockIO()
            io.weight = try f.optionalInteger("weight")
            io.leafWeight = try f.optionalInteger("leafWeight")
            io.weightDevice = try f.optionalArray("weightDevice") { (f) throws(ConfigError) in
                WeightDevice(major: try f.integer("major"), minor: try f.integer("minor"), weight: try f.optionalInteger("weight"),
                             leafWeight: try f.optionalInteger("leafWeight"))
            }
            func throttles(_ key: String) throws(ConfigError) -> [ThrottleDevice]? {
                try f.optionalArray(key) { (f) throws(ConfigError) in
                    ThrottleDevice(major: try f.integer("major"), minor: try f.integer("minor"), rate: try f.integer("rate"))
                }
            }
            io.throttleReadBpsDevice = try throttles("throttleReadBpsDevice")
            io.throttleWriteBpsDevice = try throttles("throttleWriteBpsDevice")
            io.throttleReadIOPSDevice = try throttles("throttleReadIOPSDevice")
            io.throttleWriteIOPSDevice = try throttles("throttleWriteIOPSDevice")
            return io
        }
        hugepageLimits = try f.optionalArray("hugepageLimits") { (f) throws(ConfigError) in
            HugepageLimit(pageSize: try f.string("pageSize"), limit: try f.integer("limit"))
        }
        network = try f.optionalObject("network") { (f) throws(ConfigError) in
            Network(classID: try f.optionalInteger("classID"),
                    priorities: try f.optionalArray("priorities") { (f) throws(ConfigError) in
                        InterfacePriority(name: try f.string("name"), priority: try f.integer("priority"))
                    })
        }
        rdma = try f.optionalObjectMap("rdma") { (f) throws(ConfigError) in
            RdmaLimit(hcaHandles: try f.optionalInteger("hcaHandles"), hcaObjects: try f.optionalInteger("hcaObjects"))
        }
        unified = try f.optionalStringMap("unified")
    }
}

extension SpecJSON {
    /// Reads a config.json (the fast path: no Codable).
    public static func decodeSpec(_ bytes: [UInt8], file: String) throws(ConfigError) -> Spec {
        try JSONFields.read(bytes, file: file) { (fields) throws(ConfigError) in try Spec(fields: fields) }
    }

    /// Reads a process.json (`exec --process`) with config.json's rules for a process.
    public static func decodeProcess(_ bytes: [UInt8], file: String) throws(ConfigError) -> Process {
        try JSONFields.read(bytes, file: file) { (fields) throws(ConfigError) in try Process(fields: fields) }
    }
}
