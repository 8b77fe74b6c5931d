import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Start-up check of the listen port (docs/operations.md "Start-up errors"): a busy port is refused
/// before anything is written, naming the variable, the value and, when the kernel tells, the process
/// that holds it.
enum PortCheck {
    /// Binds and releases `host`:`port` once (`SO_REUSEADDR`, like the server itself).
    ///
    /// - Throws: `ConfigurationError.unusable` (`PIPEWRIGHT_PORT=8080 is in use by pid 4242 (nginx)`).
    static func requireFree(host: String, port: Int, variable: String) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw ConfigurationError.unusable(
                variable: "PIPEWRIGHT_HOST", value: host, reason: "is not an address this machine can listen on")
        }
        defer { freeaddrinfo(result) }
        let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if bind(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            let code = errno
            if code == EADDRINUSE { throw inUse(host: host, port: port, variable: variable) }
            if code == EADDRNOTAVAIL {
                throw ConfigurationError.unusable(
                    variable: "PIPEWRIGHT_HOST", value: host, reason: "is not an address of this machine")
            }
            if code == EACCES {
                throw ConfigurationError.unusable(
                    variable: variable == "--port" ? "--port" : "PIPEWRIGHT_PORT", value: String(port),
                    reason: "needs privileges (ports below 1024); use a port above 1023 behind a reverse proxy")
            }
        }
    }

    /// The refusal for a busy port.
    static func inUse(host: String, port: Int, variable: String) -> ConfigurationError {
        let holder = listeningProcess(port: port).map { " by pid \($0.pid) (\($0.name))" } ?? " by another process"
        let name = variable == "--port" ? "--port" : "PIPEWRIGHT_PORT"
        return .unusable(
            variable: name, value: String(port),
            reason: "is in use\(holder) on \(host); stop it or choose another port")
    }

    /// The process listening on TCP `port`, from `/proc/net/tcp{,6}` and `/proc/<pid>/fd` (only processes
    /// this user may inspect; `nil` otherwise or off Linux).
    static func listeningProcess(port: Int) -> (pid: Int32, name: String)? {
        var inodes = Set<String>()
        let hexPort = String(format: ":%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readProcFile(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // local_address, state 0A = LISTEN, inode is field 9.
                guard fields.count > 9, fields[1].hasSuffix(hexPort), fields[3] == "0A" else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        guard !inodes.isEmpty, let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return nil
        }
        for pid in pids.compactMap(Int32.init) {
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for fd in fds {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast()))
                else { continue }
                let name =
                    readProcFile("/proc/\(pid)/comm")?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                return (pid, name)
            }
        }
        return nil
    }
}
