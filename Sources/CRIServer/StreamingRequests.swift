import CaissonSys
import CRIProto
import Engine
import Synchronization

/// Exec, Attach and PortForward requests waiting for the kubelet (or crictl) to connect
/// to the URL the RPC returned: one-time tokens that expire after a minute, as in the
/// kubelet's own streaming server.
public final class StreamingRequests: Sendable {
    public enum Request: Sendable {
        case exec(Runtime_V1_ExecRequest)
        case attach(Runtime_V1_AttachRequest)
        case portForward(Runtime_V1_PortForwardRequest)

        var path: String {
            switch self {
            case .exec: return "exec"
            case .attach: return "attach"
            case .portForward: return "portforward"
            }
        }
    }

    private let pending = Mutex<[String: (request: Request, expires: Int64)]>([:])
    /// "http://127.0.0.1:PORT", once the server listens.
    private let base = Mutex<String>("")

    public init() {}

    func setBaseURL(_ url: String) { base.withLock { $0 = url } }

    /// A URL for the request: BASE/exec/TOKEN (or attach, portforward).
    func register(_ request: Request) -> String {
        let token = String(ContainerEngine.randomID().prefix(32))
        let now = Clock.monotonicMilliseconds()
        pending.withLock { pending in
            pending = pending.filter { $0.value.expires > now }
            pending[token] = (request, now + 60_000)
        }
        return base.withLock { $0 } + "/" + request.path + "/" + token
    }

    /// Takes a token's request (once).
    func take(_ token: String) -> Request? {
        let now = Clock.monotonicMilliseconds()
        return pending.withLock { pending in
            guard let entry = pending.removeValue(forKey: token), entry.expires > now else { return nil }
            return entry.request
        }
    }
}

