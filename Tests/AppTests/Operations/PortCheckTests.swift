import Foundation
import Testing

@testable import App

/// `PortCheck` names the process holding a port from `/proc/net/tcp`, which lists every socket of the
/// machine: a listener far down that list is found too (proc files are read to their end).
@Suite struct PortCheckTests {
    @Test func everyListener_isNamed_amongHundredsOfSockets() throws {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<300 {
            let (descriptor, port) = try Self.listeningSocket()
            descriptors.append(descriptor)
            ports.append(port)
        }
        let unnamed = ports.filter { PortCheck.listeningProcess(port: $0)?.pid != getpid() }
        #expect(unnamed.isEmpty, "\(unnamed.count) of \(ports.count) listeners not traced to this process")
    }

    /// A TCP socket listening on 127.0.0.1 and a port the kernel picked.
    private static func listeningSocket() throws -> (Int32, Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard listening else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
