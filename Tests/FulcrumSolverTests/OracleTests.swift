import Foundation
import FulcrumCore
import FulcrumSolver
import Testing

/// `glpsol` on `models/dom.mod`: the independent solver.
enum GLPSol {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models/dom.mod").path

    /// The optimal objective of `request` by glpsol.
    static func objective(_ request: OptimizeRequest) throws -> Double {
        let data = NSTemporaryDirectory() + "fulcrum-\(UUID().uuidString).dat"
        try MathProgData.render(request).write(toFile: data, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/glpsol")
        process.arguments = ["--math", model, "--data", data]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("OBJECTIVE ") }),
            let value = Double(line.dropFirst("OBJECTIVE ".count))
        else { throw GLPSolFailure(output: output) }
        return value
    }

    struct GLPSolFailure: Error, CustomStringConvertible {
        let output: String
        var description: String { "glpsol gave no objective:\n\(output)" }
    }
}

@Suite struct OracleTests {
    static let instancesPerBatch = 60

    /// 6 × 60 seeded instances: Fulcrum's optimum equals glpsol's within 1e-6
    /// relative; every plan passes the independent checker; the greedy
    /// strategies are feasible and never beat the optimum.
    @Test(arguments: 0..<6)
    func optimumMatchesGLPSol(batch: Int) throws {
        // Batches whose orders competed, so that the joint model had to decide.
        var jointlySolved = 0
        defer { #expect(jointlySolved > 0, "no batch of these seeds exercised the joint model") }
        for seed in (batch * Self.instancesPerBatch)..<((batch + 1) * Self.instancesPerBatch) {
            var generator = InstanceGenerator(seed: UInt64(seed))
            let json = InstanceGenerator.json(generator.request())
            let request = try OptimizeRequest.decode(json: json)
            let context = "seed \(seed): \(String(decoding: json, as: UTF8.self))"
            let optimal = try Optimizer.solve(request)
            #expect(optimal.status == .optimal, "\(context)")
            if request.orders.count > 1 && optimal.statistics.variables > 0 { jointlySolved += 1 }
            let problems = PlanChecker.check(optimal, for: request)
            #expect(problems.isEmpty, "\(problems) \(context)")
            let oracle = try GLPSol.objective(request)
            #expect(PlanChecker.close(optimal.objective, oracle), "ours \(optimal.objective), glpsol \(oracle); \(context)")
            for strategy in [Strategy.greedyNearest, .greedyPriority] {
                let greedy = try Optimizer.solve(request, options: .init(strategy: strategy))
                #expect(PlanChecker.check(greedy, for: request).isEmpty, "\(strategy): \(context)")
                #expect(greedy.objective >= optimal.objective - 1e-6 * max(1, optimal.objective), "\(strategy) beat the optimum; \(context)")
            }
        }
    }

    /// Column generation on every coupled batch of the seeded instances:
    /// its lower bound never exceeds glpsol's optimum, the plan it finds never
    /// beats it (so it respects the shared stock and capacity), and on some
    /// batches the duals raise the bound above the orders' solo optima (the
    /// pricing sees the rows' prices).
    @Test func columnGenerationBoundsTheOptimumFromBothSides() throws {
        var coupled = 0
        var raised = 0
        for seed in 0..<120 {
            var generator = InstanceGenerator(seed: UInt64(seed))
            let request = try OptimizeRequest.decode(json: InstanceGenerator.json(generator.request()))
            guard request.orders.count > 1 else { continue }
            let generated = try Optimizer.columnGeneration(request, timeLimitMilliseconds: 60_000)
            guard let bound = generated.lowerBound, let solo = generated.soloBound, let objective = generated.objective else {
                Issue.record("seed \(seed): column generation proved no bound or found no plan")
                continue
            }
            coupled += 1
            let oracle = try GLPSol.objective(request)
            let slack = 1e-6 * max(1, abs(oracle))
            #expect(bound <= oracle + slack, "seed \(seed): bound \(bound) above glpsol's optimum \(oracle)")
            #expect(objective >= oracle - slack, "seed \(seed): a plan at \(objective) beats glpsol's optimum \(oracle)")
            #expect(bound >= solo - slack, "seed \(seed): bound \(bound) below the solo bound \(solo)")
            if bound > solo + slack { raised += 1 }
        }
        #expect(coupled > 10 && raised > 0, "\(coupled) coupled batches, \(raised) with the bound raised by the duals")
    }

    /// Batches of the solver issue's shape (30 orders × 60 nodes × 3 lines,
    /// as `fulcrum generate` makes them): proved optimal, within 1e-6 of
    /// glpsol (about 12 s for glpsol here), every plan checked. The batch is
    /// split into independent groups before solving.
    @Test func aBatchOfThirtyOrdersMatchesGLPSol() throws {
        var workload = SyntheticWorkload(seed: 2, nodeCount: 60, skuCount: 200)
        let request = workload.request(orderCount: 30, linesPerOrder: 3)
        let optimal = try Optimizer.solve(request)
        #expect(optimal.status == .optimal && optimal.statistics.gap == 0)
        #expect(PlanChecker.check(optimal, for: request).isEmpty)
        let oracle = try GLPSol.objective(request)
        #expect(PlanChecker.close(optimal.objective, oracle), "ours \(optimal.objective), glpsol \(oracle)")
    }
}
