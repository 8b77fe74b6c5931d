import Fluent
import Foundation
import LogStore
import PipewrightCore
import Vapor

/// `/`: the overview, read through the same use cases as the API (`ExecutionLauncher`, `LogQueries`,
/// `KeyCatalog`).
struct OverviewPageController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(use: overview)
    }

    @Sendable func overview(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let launcher = req.executionLauncher
        let page = try PipewrightCore.PageRequest(page: 1, perPage: 10)
        var running: [Overview.Model.Execution] = []
        for status in [Execution.Status.triggering, .pending, .building, .testing, .deploying] {
            running += try await launcher.listAll(.init(status: status), page: page, for: user).items.map(Self.row)
        }
        running.sort { $0.id > $1.id }
        var failures: [Overview.Model.Execution] = []
        for status in [Execution.Status.failed, .error] {
            failures += try await launcher.listAll(.init(status: status), page: page, for: user).items.map(Self.row)
        }
        failures.sort { $0.id > $1.id }
        failures = Array(failures.prefix(10))
        let logs = req.logQueries
        for index in failures.indices {
            if let error = try await logs.stats(executionID: failures[index].id, for: user).firstError {
                failures[index].firstError = .init(seq: error.seq, text: error.text)
            }
        }
        let keys = try await req.keyCatalog.list(
            .init(status: .active), page: try .init(page: 1, perPage: 100), for: user
        )
        .items.compactMap { entry -> Overview.Model.KeyAttention? in
            guard let id = entry.key.id else { return nil }
            let unsettled = entry.deployments.filter { $0.status != .present }.count
            if entry.deployments.isEmpty {
                return .init(id: id, name: entry.key.name, reason: "deployed nowhere")
            }
            guard unsettled > 0 else { return nil }
            return .init(
                id: id, name: entry.key.name,
                reason: "missing or unverified on \(unsettled) server\(unsettled == 1 ? "" : "s")")
        }
        let model = Overview.Model(running: Array(running.prefix(10)), failures: failures, keys: keys)
        return .page(Overview.View(context: req.pageContext(.overview), model: model).render())
    }

    static func row(_ execution: Execution) -> Overview.Model.Execution {
        .init(
            id: execution.id ?? 0, pipelineName: execution.$pipeline.value?.name ?? "",
            branch: execution.branch, status: execution.status.rawValue, createdAt: execution.createdAt,
            firstError: nil)
    }
}
