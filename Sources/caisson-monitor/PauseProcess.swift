#if canImport(Glibc)
import Glibc
#endif
import CaissonShim
import CaissonSys

/// `caisson-monitor pause` (this same static binary, bind-mounted as the only file of a
/// pod sandbox's root): the process that holds a pod's shared namespaces, like
/// Kubernetes' pause image. As PID 1 of the pod's PID namespace it reaps orphans; it
/// exits 0 on SIGINT or SIGTERM and otherwise sleeps.
enum PauseProcess {
    static func run() -> Int32 {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGCHLD, SIGINT, SIGTERM] { sigaddset(&mask, signal) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        let signals = caisson_signalfd_all()
        guard signals >= 0 else { return 1 }
        while true {
            let signal = caisson_signalfd_read(signals)
            if signal < 0 { if errno == EINTR { continue }; return 1 }
            if signal == SIGINT || signal == SIGTERM { return 0 }
            var status: Int32 = 0
            while waitpid(-1, &status, WNOHANG) > 0 {}
        }
    }
}
