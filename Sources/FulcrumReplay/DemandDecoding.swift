import FulcrumConfig
import FulcrumCore

extension Scenario {
    static func decodeDemand(_ top: FieldReader, scenario: Scenario, nodeIDs: Set<String>, skuIDs: Set<String>)
        throws(FulcrumError) -> Demand
    {
        guard let reader = try top.mapping("demand") else { throw top.error("demand", "is required") }
        let hasOrders = reader.has("orders")
        guard hasOrders != reader.has("generate") else {
            throw top.error("demand", "give either orders (a list) or generate (a model)")
        }
        let demand: Demand
        if hasOrders {
            var orderIDs = Set<String>()
            let orders = try reader.records("orders") { (order: FieldReader) throws(FulcrumError) in
                let scenarioOrder = try decodeOrder(order, scenario: scenario, nodeIDs: nodeIDs, skuIDs: skuIDs)
                guard orderIDs.insert(scenarioOrder.order.id).inserted else {
                    throw order.error("id", "'\(scenarioOrder.order.id)' is listed twice")
                }
                return scenarioOrder
            }
            guard !orders.isEmpty else { throw reader.error("orders", "must list at least one order") }
            demand = .orders(orders)
        } else {
            guard let model = try reader.mapping("generate") else { preconditionFailure("checked above") }
            demand = .generated(try decodeModel(model, days: scenario.days, skuIDs: skuIDs))
            try model.finish()
        }
        try reader.finish()
        return demand
    }

    private static func decodeOrder(_ reader: FieldReader, scenario: Scenario, nodeIDs: Set<String>, skuIDs: Set<String>)
        throws(FulcrumError) -> ScenarioOrder
    {
        let id = try reader.requiredName("id")
        let day = try reader.requiredInt("day", in: 0...(scenario.days - 1))
        let minutes = try minutesOfDay(reader)
        guard let shipTo = try reader.mapping("ship_to") else { throw reader.error("ship_to", "is required") }
        let location = Location(
            latitude: try shipTo.requiredDouble("latitude", in: -90...90), longitude: try shipTo.requiredDouble("longitude", in: -180...180),
            region: try shipTo.string("region"))
        try shipTo.finish()
        var lineIDs = Set<String>()
        let lines = try reader.records("lines") { (line: FieldReader) throws(FulcrumError) in
            let lineID = try line.name("id") ?? "L\(lineIDs.count + 1)"
            guard lineIDs.insert(lineID).inserted else { throw line.error("id", "'\(lineID)' is listed twice in the order") }
            return Line(
                id: lineID, sku: try reference(line, "sku", in: skuIDs), quantity: try line.requiredInt("quantity", in: 1...Int(Limits.quantityMax)),
                noSplit: try line.bool("no_split") ?? false)
        }
        guard !lines.isEmpty else { throw reader.error("lines", "must list at least one line") }
        let pickup = reader.has("pickup_node") ? try reference(reader, "pickup_node", in: nodeIDs) : nil
        let order = Order(
            id: id, priority: try reader.double("priority", in: Limits.priorityMin...Limits.priorityMax) ?? 1, shipTo: location,
            shipComplete: try reader.bool("ship_complete") ?? false,
            maxShipments: try reader.int("max_shipments", in: 1...Int(Limits.quantityMax)), pickupNode: pickup, lines: lines)
        return ScenarioOrder(
            arrival: scenario.time(day: day, minutes: minutes), order: order, abandoned: try reader.bool("abandoned") ?? false)
    }

    private static func decodeModel(_ reader: FieldReader, days: Int, skuIDs: Set<String>) throws(FulcrumError) -> DemandModel {
        let centres = try reader.records("ship_to") { (centre: FieldReader) throws(FulcrumError) in
            DemandModel.Centre(
                name: try centre.requiredString("name"),
                location: Location(
                    latitude: try centre.requiredDouble("latitude", in: -90...90),
                    longitude: try centre.requiredDouble("longitude", in: -180...180), region: try centre.string("region")),
                share: try centre.requiredDouble("share", in: Limits.shareMin...Limits.shareMax),
                radiusKilometers: try centre.double("radius_km", in: 0...2000) ?? 30)
        }
        guard !centres.isEmpty else { throw reader.error("ship_to", "must list at least one population centre") }
        let dayMultipliers = try reader.doubles("day_multipliers", count: days, in: 0...1000) ?? Array(repeating: 1, count: days)
        let weights: ClosedRange<Double> = 0...Limits.shareMax
        var model = DemandModel(
            ordersPerDay: try reader.requiredDouble("orders_per_day", in: 0...10_000_000),
            multiplier: try reader.double("multiplier", in: 0...1000) ?? 1,
            dayMultipliers: dayMultipliers,
            weeklyShape: try reader.doubles("weekly_shape", count: 7, in: weights) ?? Array(repeating: 1, count: 7),
            hourlyShape: try reader.doubles("hourly_shape", count: 24, in: weights) ?? DemandModel.hourlyShapeDefault,
            zipfExponent: try reader.double("zipf_exponent", in: 0...5) ?? 1,
            centres: centres,
            linesPerOrder: try reader.doubles("lines_per_order", in: weights) ?? [1],
            unitsPerLine: try reader.doubles("units_per_line", in: weights) ?? [1],
            pickupShare: try reader.double("pickup_share", in: 0...1) ?? 0,
            pickupRadiusKilometers: try reader.double("pickup_radius_km", in: 0...1000) ?? 25,
            abandonShare: try reader.double("abandon_share", in: 0...1) ?? 0)
        for (key, shape) in [
            ("weekly_shape", model.weeklyShape), ("hourly_shape", model.hourlyShape),
            ("lines_per_order", model.linesPerOrder), ("units_per_line", model.unitsPerLine),
        ] where shape.reduce(0, +) <= 0 {
            throw reader.error(key, "needs a weight above zero")
        }
        model.spikes = try reader.records("spikes") { (spike: FieldReader) throws(FulcrumError) in
            DemandModel.Spike(
                day: try spike.requiredInt("day", in: 0...(days - 1)), hour: try spike.requiredInt("hour", in: 0...23),
                sku: try reference(spike, "sku", in: skuIDs), orders: try spike.requiredInt("orders", in: 1...1_000_000),
                units: try spike.int("units", in: 1...Int(Limits.quantityMax)) ?? 1)
        }
        return model
    }
}
