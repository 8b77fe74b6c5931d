import App
import Foundation
import Logging
import Vapor

/// `pipewright serve | migrate | user create | token create | master-key rotate | keys verify`.
///
/// Configuration errors print one line naming the variable and exit with status 1 (README "Configuration").
@main
enum Entrypoint {
    static func main() async {
        var env: Environment
        do {
            env = try Environment.detect()
            try LoggingSystem.bootstrap(from: &env)
        } catch {
            fail("configuration error: \(error)")
        }
        var configuration: PipewrightConfiguration
        do {
            configuration = try PipewrightConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            fail("\(error)")
        }
        let command = env.arguments.dropFirst().first ?? "serve"
        configuration.createsInitialAdmin = command == "serve"
        let app: Application
        do {
            app = try await Application.make(env)
        } catch {
            fail("start-up error: \(type(of: error))")
        }
        do {
            try await configure(app, configuration: configuration)
        } catch {
            try? await app.asyncShutdown()
            fail(error is ConfigurationError ? "\(error)" : "start-up error: \(error)")
        }
        do {
            try await app.execute()
            // issue 7, 2026-11-29: Vapor's asyncShutdown runs lifecycle handlers (database, monitors) before
            // the HTTP server quiesces; drain HTTP first so in-flight requests keep their database.
            await GracefulShutdown.drain(app)
            try await app.asyncShutdown()
        } catch let error as any AbortError {
            try? await app.asyncShutdown()
            fail("error: \(error.reason)")
        } catch {
            try? await app.asyncShutdown()
            fail("error: \(error)")
        }
    }

    private static func fail(_ line: String) -> Never {
        FileHandle.standardError.write(Data((line + "\n").utf8))
        exit(1)
    }
}
