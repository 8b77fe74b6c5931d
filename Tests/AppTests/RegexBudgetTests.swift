import Foundation
import LogStore
import Testing
import Vapor
import VaporTesting

@testable import App

/// `PIPEWRIGHT_REGEX_BUDGET_MS` reaches the log query: a budget too short for a catastrophic line gives a
/// partial page over HTTP whose cursor continues the search (docs/API.md "Logs").
@Suite struct RegexBudgetTests {
    @Test func budgetSetting_isParsedAndBounded() throws {
        #expect(try PipewrightConfiguration.fromEnvironment([:]).regexBudget == .milliseconds(2000))
        #expect(
            try PipewrightConfiguration.fromEnvironment(["PIPEWRIGHT_REGEX_BUDGET_MS": "250"]).regexBudget
                == .milliseconds(250))
        for bad in ["0", "-5", "soon", "600001"] {
            #expect(throws: (any Error).self, "\(bad)") {
                try PipewrightConfiguration.fromEnvironment(["PIPEWRIGHT_REGEX_BUDGET_MS": bad])
            }
        }
    }

    @Test func budgetSpentAfterDecidedLines_isAPartialPage_andTheCursorContinues() async throws {
        try await withTestApp(configure: { $0.regexBudget = .milliseconds(500) }) { ctx in
            let (_, ids) = try await LogEndpointTests().seed(ctx, statuses: [.success])
            let id = ids[0]
            // 100 ordinary lines, then one on which `(a+)+$` backtracks far beyond the budget.
            var log = (1...100).map { "line \($0) aaa" }.joined(separator: "\n") + "\n"
            log += String(repeating: "a", count: 50_000) + "b\n"
            try await LogEndpointTests().ingest(ctx, id, step: "Build", log)
            var resume = 0
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/logs?regex=true&q=(a%2B)%2B%24&per_page=100", headers: ctx.memberAuth
            ) { res async throws in
                #expect(res.status == .ok, "\(res.body.string)")
                let json = try res.json()
                #expect(json["partial"] as? Bool == true)
                resume = try #require(json["resume_after_seq"] as? Int)
                #expect(json["total_is_lower_bound"] as? Bool == true)
            }
            #expect(resume >= 1 && resume <= 100)
            // Continuing at the cursor reaches the catastrophic line: nothing decided, so regex_timeout.
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/logs?regex=true&q=(a%2B)%2B%24&after_seq=100", headers: ctx.memberAuth
            ) { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "regex_timeout")
            }
        }
    }
}
