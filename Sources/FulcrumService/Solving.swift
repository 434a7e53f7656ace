import FulcrumCore
import FulcrumSolver

/// Solving without a ledger, for front ends that bring their own stock (the
/// CLI's offline `optimize` and `return`, the guided demo): the same solver
/// the server uses, through the same door.
extension Service {
    /// Solves a request against its `inventory`, or `availability` when it has none.
    public static func solve(_ request: OptimizeRequest, availability: [Stock]? = nil, options: OptimizeOptions)
        throws(FulcrumError) -> OptimizeResponse
    {
        try Optimizer.solve(request, availability: availability, options: options)
    }

    /// The request as a MathProg data section for `models/dom.mod`, so that
    /// glpsol can solve it independently.
    public static func mathProgData(_ request: OptimizeRequest) -> String {
        MathProgData.render(request)
    }

    /// The cheapest node to receive a customer return.
    public static func chooseReturnNode(_ request: ReturnRequest, explain: Bool) -> ReturnResponse {
        ReturnOptimizer.choose(request, explain: explain)
    }
}
