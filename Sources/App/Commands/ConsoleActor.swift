import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who runs a `pipewright` command: the operating-system account, recorded as `cli:<name>` in audit entries.
enum ConsoleActor {
    /// The login name of the effective user id (`getpwuid`), else `$USER`, else `uid:<n>`.
    static var current: String {
        let uid = geteuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"].map { String($0.prefix(64)) } ?? "uid:\(uid)"
    }
}
