/// What `--help` says about a command, in urfave/cli's terms as runc uses them: the
/// one-line summary (after "NAME - "), the words after the usage line's "[command
/// options]" (`argsUsage`, which may continue with explanations on further lines; empty
/// gives "[arguments...]") and an optional description.
struct CommandHelp: Sendable {
    let summary: String
    var argsUsage = ""
    var description: String?
}

extension CommandHelp {
    /// The top-level description, under NAME in `caisson-runtime --help`.
    static let application = """
    Open Container Initiative runtime

    caisson-runtime runs containers from OCI bundles: a directory holding a
    "config.json" (runtime-spec 1.2) and the root filesystem it names. Its command
    line is runc's, so engines and shims that drive runc (podman, containerd, docker,
    CRI-O) can drive it in runc's place, with the same commands, flags, state and
    output.

    A container's state lives under the global "--root" directory; the container
    process is created as a child of the process that runs the command, so process
    supervisors can watch it directly.

    To create and start a container from the bundle in the current directory:

        # caisson-runtime run [ -b bundle ] <container-id>

    "<container-id>" names the container; it must be unique under the root directory.
    """

    static let checkpoint = CommandHelp(
        summary: "checkpoint a running container (not supported: caisson-runtime has no CRIU support)",
        argsUsage: "<container-id>",
        description: "Checkpointing with CRIU is not supported by caisson-runtime; the command always fails.")

    static let restore = CommandHelp(
        summary: "restore a container from a previous checkpoint (not supported: caisson-runtime has no CRIU support)",
        argsUsage: "<container-id>",
        description: "Restoring with CRIU is not supported by caisson-runtime; the command always fails.")

    static let create = CommandHelp(
        summary: "create a container",
        argsUsage: """
        <container-id>

        "<container-id>" names the new container; it must be unique under the root directory.
        """,
        description: """
        Sets up a container from a bundle (a directory with a "config.json" and a root
        filesystem) and leaves its process waiting: "start" runs the program named by the
        process.args of the configuration. See "caisson-runtime spec --help".
        """)

    static let run = CommandHelp(
        summary: "create and run a container",
        argsUsage: """
        <container-id>

        "<container-id>" names the new container; it must be unique under the root directory.
        """,
        description: """
        Creates a container from a bundle (a directory with a "config.json" and a root
        filesystem) and starts its process at once. In the foreground (the default) it
        waits for the process, relays its terminal and signals, exits with its status and
        deletes the container unless --keep is given.
        """)

    static let start = CommandHelp(
        summary: "start the process of a created container",
        argsUsage: """
        <container-id>

        "<container-id>" is the name of a container made by "create".
        """,
        description: "Runs the program of a container that \"create\" set up and left waiting.")

    static let state = CommandHelp(
        summary: "print the state of a container",
        argsUsage: """
        <container-id>

        "<container-id>" is the name of the container.
        """,
        description: "Prints the container's state document (runtime-spec) as JSON.")

    static let kill = CommandHelp(
        summary: "send a signal (SIGTERM unless one is given) to the container's init process",
        argsUsage: """
        <container-id> [signal]

        "[signal]" is a name (KILL, SIGKILL) or a number; 0 only checks that the process
        exists. For example, to send KILL to the container "web1":

               # caisson-runtime kill web1 KILL
        """)

    static let delete = CommandHelp(
        summary: "delete a container and everything the runtime holds for it",
        argsUsage: """
        <container-id>...

        Removes the state, cgroup and processes of each stopped container named; with
        --force, running ones are killed (SIGKILL) first:

               # caisson-runtime delete web1
        """)

    static let list = CommandHelp(
        summary: "list the containers under the root directory",
        argsUsage: """


        The root directory is the global option "--root" (default: "/run/caisson"):

               # caisson-runtime list
               # caisson-runtime --root /run/other list
        """)

    static let ps = CommandHelp(
        summary: "show the processes running in a container",
        argsUsage: "<container-id> [ps options]")

    static let exec = CommandHelp(
        summary: "run a new process inside a container",
        argsUsage: """
        <container-id> <command> [command options]  || -p process.json <container-id>

        "<command>" and its arguments run in the container "<container-id>"; it may be
        left out only when -p gives the whole process:

               # caisson-runtime exec web1 ps
        """)

    static let pause = CommandHelp(
        summary: "suspend every process of a container",
        argsUsage: """
        <container-id>

        "<container-id>" is the name of the container to pause.
        """,
        description: "Freezes the container's cgroup; \"resume\" thaws it.")

    static let resume = CommandHelp(
        summary: "resume every process of a paused container",
        argsUsage: """
        <container-id>

        "<container-id>" is the name of the container to resume.
        """,
        description: "Thaws the cgroup of a container that \"pause\" froze.")

    static let update = CommandHelp(
        summary: "update the resource limits of a container",
        argsUsage: """
        <container-id>

        With -r, the resources are read as JSON (runtime-spec linux.resources; omitted
        values stay as they are) from a file, or from the standard input with "-r -".
        Each other option sets one value.
        """)

    static let events = CommandHelp(
        summary: "show a container's events: OOM kills, and cpu, memory, pids and IO statistics",
        argsUsage: """
        <container-id>

        "<container-id>" is the name of the container.
        """,
        description: """
        Prints one JSON line per event: statistics every interval (5 seconds unless
        --interval is given) and an "oom" event when the kernel kills a process for
        lack of memory. With --stats, prints the statistics once and exits.
        """)

    static let spec = CommandHelp(
        summary: "write a new configuration file",
        description: """
        Writes a starter "config.json" for a bundle (the directory given by --bundle, or
        the current one). Its process runs "sh" with a terminal; edit process.args, and
        the rest, for the container wanted. With --rootless, the configuration suits a
        container started without root privileges.
        """)

    static let features = CommandHelp(
        summary: "show the enabled features",
        description: """
        Prints, as JSON, what this runtime supports (runtime-spec features document):
        namespaces, capabilities, mount options, cgroup and seccomp support.
        """)

    /// `help` itself, as urfave/cli lists it.
    static let help = CommandHelp(summary: "Shows a list of commands or help for one command",
                                  argsUsage: "[command]")
}
