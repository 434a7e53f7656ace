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
        var request = request
        let precisions = try placeShipTo(&request)
        var response = try Optimizer.solve(request, availability: availability, options: options)
        mark(&response, precisions)
        return response
    }

    /// The request as a MathProg data section for `models/dom.mod`, so that
    /// glpsol can solve it independently (addresses placed as a solve places them).
    public static func mathProgData(_ request: OptimizeRequest) throws(FulcrumError) -> String {
        var request = request
        _ = try placeShipTo(&request)
        return MathProgData.render(request)
    }

    /// Places each order's ship-to given without coordinates with the
    /// gazetteer (as journeys do); returns how, by order. An address it
    /// cannot place is `invalid_argument` at its field.
    static func placeShipTo(_ request: inout OptimizeRequest) throws(FulcrumError) -> [String: PlacementPrecision] {
        var precisions: [String: PlacementPrecision] = [:]
        for index in request.orders.indices where !request.orders[index].shipTo.isPlaced {
            let shipTo = request.orders[index].shipTo
            let address = Address(region: shipTo.region, country: shipTo.country, postalCode: shipTo.postalCode, city: shipTo.city)
            guard let placement = place(address) else { throw address.unplaceable(path: "orders[\(index)].ship_to") }
            request.orders[index].shipTo.latitude = placement.latitude
            request.orders[index].shipTo.longitude = placement.longitude
            precisions[request.orders[index].id] = placement.precision
        }
        return precisions
    }

    /// Says on each plan how its order's address was placed.
    static func mark(_ response: inout OptimizeResponse, _ precisions: [String: PlacementPrecision]) {
        guard !precisions.isEmpty else { return }
        for index in response.plans.indices { response.plans[index].shipToPrecision = precisions[response.plans[index].order] }
    }

    /// The cheapest node to receive a customer return.
    public static func chooseReturnNode(_ request: ReturnRequest, explain: Bool) -> ReturnResponse {
        ReturnOptimizer.choose(request, explain: explain)
    }
}
