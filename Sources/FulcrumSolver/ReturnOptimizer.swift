import FulcrumCore

/// Chooses return locations: every eligible node is priced exactly (one
/// parcel from the customer, handling at the node) and the cheapest wins;
/// ties go to the earlier node.
public enum ReturnOptimizer {
    public static func choose(_ request: ReturnRequest, explain: Bool = false) -> ReturnResponse {
        let priced = request.nodes.map { price(request, node: $0) }
        let best = priced.indices.filter { priced[$0].success != nil }
            .min { (priced[$0].success!.cost, $0) < (priced[$1].success!.cost, $1) }
        let choice = best.flatMap { priced[$0].success }
        var explanations: [NodeExplanation]?
        if explain {
            explanations = zip(request.nodes, priced).compactMap { node, outcome in
                switch outcome {
                case .failure(let why): return NodeExplanation(node: node.id, reasons: [.returnIneligible(why.reason)])
                case .success(let priced) where priced.node != choice?.node:
                    return NodeExplanation(node: node.id, reasons: [.moreExpensive(extraCost: priced.cost - choice!.cost)])
                case .success: return nil
                }
            }
        }
        return ReturnResponse(returnID: request.id, choice: choice, explanations: explanations)
    }

    struct IneligibleForReturn: Error { let reason: ReturnIneligibility }

    private static func price(_ request: ReturnRequest, node: ReturnRequest.Node) -> Result<ReturnResponse.Choice, IneligibleForReturn> {
        guard node.enabled else { return .failure(.init(reason: .disabled)) }
        guard node.acceptsReturns else { return .failure(.init(reason: .doesNotAcceptReturns)) }
        let described = Dictionary(uniqueKeysWithValues: request.skus.map { ($0.id, $0) })
        let goods = request.lines.map { Exclusion.Goods(category: described[$0.sku]?.category, flags: described[$0.sku]?.flags ?? []) }
        for (rule, exclusion) in request.rules.exclude.enumerated()
        where exclusion.matches(node: node.id, kind: node.kind, region: node.location.region, goods: goods) {
            return .failure(.init(reason: .excluded(rule: rule)))
        }
        let distance = Geography.distanceKilometers(request.from, node.location)
        if let limit = request.rules.maxDistanceKilometers, distance > limit {
            return .failure(.init(reason: .tooFar(distanceKilometers: distance, limitKilometers: limit)))
        }
        let weights = Dictionary(uniqueKeysWithValues: request.skus.map { ($0.id, $0.weightKilograms) })
        let units = request.lines.reduce(0) { $0 + $1.quantity }
        let kilogramKilometres = request.lines.reduce(0.0) { $0 + Double($1.quantity) * (weights[$1.sku] ?? 1) * distance }
        let rates = request.rates
        return .success(
            .init(
                node: node.id, distanceKilometers: distance,
                shippingCost: rates.perShipment + rates.perKilometer * distance + rates.perKilogramKilometer * kilogramKilometres,
                handlingCost: node.returnCostPerShipment + node.returnCostPerUnit * Double(units)))
    }
}

extension Result {
    fileprivate var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
