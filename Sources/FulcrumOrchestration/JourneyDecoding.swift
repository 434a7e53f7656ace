import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumSolver

extension JourneyBook {
    /// Reads a journey file (format in `docs/orchestration.md`). Every error
    /// is `invalid_journey` (or `invalid_policy` for a condition) with
    /// `FILE:LINE:COLUMN: field.path`.
    public static func load(path: String) throws(FulcrumError) -> JourneyBook {
        guard let data = FileManager.default.contents(atPath: path), let yaml = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidJourney, "cannot read the journey file (missing, or not UTF-8)", path: path)
        }
        return try decode(yaml: yaml, file: path)
    }

    public static func decode(yaml: String, file: String) throws(FulcrumError) -> JourneyBook {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidJourney)
        let top = try FieldReader(document, path: "", code: .invalidJourney)
        let version = try top.requiredInt("version", in: 1...Int.max)
        guard version == 1 else { throw top.error("version", "version \(version) is not supported (1 is)") }
        var states = StateFramework.builtIn
        if let custom = try top.mapping("states") {
            try decodeStates(custom, into: &states)
            try custom.finish()
        }
        var policies: [String: ExecutionPolicy] = [:]
        for item in try top.list("policies") {
            let reader = try FieldReader(item.document, path: item.path, code: .invalidJourney)
            let policy = try decodePolicy(reader)
            try reader.finish()
            guard policies[policy.id] == nil else { throw reader.error("id", "policy \(policy.id) is defined twice") }
            policies[policy.id] = policy
        }
        var steps: [Step] = []
        var stepLocations: [String: FieldReader] = [:]
        var journeyIDs = Set<String>()
        let journeys = try top.list("journeys")
        if journeys.isEmpty { throw top.error("journeys", "must list at least one journey") }
        for item in journeys {
            let journey = try FieldReader(item.document, path: item.path, code: .invalidJourney)
            let id = try identifier(journey, "id")
            guard journeyIDs.insert(id).inserted else { throw journey.error("id", "journey \(id) is defined twice") }
            let stepItems = try journey.list("steps")
            if stepItems.isEmpty { throw journey.error("steps", "must list at least one step") }
            for stepItem in stepItems {
                let reader = try FieldReader(stepItem.document, path: stepItem.path, code: .invalidJourney)
                let step = try decodeStep(reader, journey: id, policies: policies, states: states)
                guard stepLocations[step.id] == nil else { throw reader.error("id", "step \(step.id) is defined twice") }
                stepLocations[step.id] = reader
                steps.append(step)
                try reader.finish()
            }
            try journey.finish()
        }
        for step in steps {
            if let resume = step.resumeOnError, !steps.contains(where: { $0.id == resume }) {
                throw stepLocations[step.id]!.error("resume_on_error", "no step is called \(resume)")
            }
        }
        try top.finish()
        return JourneyBook(states: states, policies: policies, steps: steps, file: file)
    }

    private static func identifier(_ reader: FieldReader, _ key: String) throws(FulcrumError) -> String {
        let text = try reader.requiredString(key)
        guard Self.isEventName(text) else {
            throw reader.error(key, "'\(text)' must be lower-case letters, digits, '_', '-' and '.'")
        }
        return text
    }

    /// Event, step, state and policy names: `order.created`, `wa-from-seattle`.
    static func isEventName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }
    }

    private static func names(_ reader: FieldReader, _ key: String) throws(FulcrumError) -> [String] {
        var names: [String] = []
        for item in try reader.list(key) {
            guard case .scalar(let text) = item.document.value, isEventName(text) else {
                throw reader.error(at: item.document.location, item.path, "must be a lower-case name such as order.created")
            }
            names.append(text)
        }
        return names
    }

    private static func decodeStates(_ reader: FieldReader, into states: inout StateFramework) throws(FulcrumError) {
        for kind in EntityKind.allCases {
            guard let entity = try reader.mapping(kind.rawValue) else { continue }
            let added = try names(entity, "add")
            let known = (states.states[kind] ?? []).union(added)
            var transitions: [StateFramework.Transition] = []
            for item in try entity.list("transitions") {
                let pair = try FieldReader(item.document, path: item.path, code: .invalidJourney)
                let from = try identifier(pair, "from")
                let to = try identifier(pair, "to")
                guard known.contains(from) else { throw pair.error("from", "\(from) is not a state of \(kind.rawValue)") }
                guard known.contains(to) else { throw pair.error("to", "\(to) is not a state of \(kind.rawValue)") }
                try pair.finish()
                transitions.append(.init(from: from, to: to))
            }
            try entity.finish()
            states.add(states: added, transitions: transitions, to: kind)
        }
    }

    private static func condition(_ reader: FieldReader, _ key: String) throws(FulcrumError) -> Condition? {
        guard let text = try reader.string(key) else { return nil }
        let location = reader.value(key)!.location
        return try Condition(text, path: "\(location): \(reader.fieldPath(key))")
    }

    private static func decodePolicy(_ reader: FieldReader) throws(FulcrumError) -> ExecutionPolicy {
        let id = try identifier(reader, "id")
        guard let when = try condition(reader, "when") else { throw reader.error("when", "is required") }
        let failure = try reader.string("fail")
        let setter = try reader.mapping("set")
        switch (failure, setter) {
        case (let message?, nil):
            return ExecutionPolicy(id: id, when: when, effect: .fail(message: message))
        case (nil, let setter?):
            var values: [String: ConditionValue] = [:]
            guard case .mapping(let entries) = setter.document.value, !entries.isEmpty else {
                throw reader.error("set", "must set at least one field")
            }
            for entry in entries {
                values[entry.key] = try settableValue(entry.key, setter)
            }
            try setter.finish()
            return ExecutionPolicy(id: id, when: when, effect: .set(values))
        default:
            throw reader.error("fail", "a policy either fails the step (fail: message) or sets fields (set:), not both or neither")
        }
    }

    private static func settableValue(_ field: String, _ reader: FieldReader) throws(FulcrumError) -> ConditionValue {
        guard OrderFields.isSettable(field) else {
            throw reader.error(field, "\(field) cannot be set (settable: \(OrderFields.settable.sorted().joined(separator: ", ")), attributes.NAME)")
        }
        switch field {
        case "ship_complete": return .bool(try reader.bool(field)!)
        case "max_shipments": return .number(Double(try reader.int(field, in: 1...Limits.reservationLinesMax)!))
        case "priority": return .number(try reader.double(field, in: 0...1_000_000)!)
        case "source_kind":
            let kind = try reader.string(field)!
            guard NodeKind(rawValue: kind) != nil else {
                throw reader.error(field, "'\(kind)' is not a node kind (warehouse, store, 3pl, vendor)")
            }
            return .string(kind)
        case "source_node", "profile", "channel": return .string(try reader.name(field)!)
        default: return .string(try reader.string(field)!)
        }
    }

    private static func decodeStep(
        _ reader: FieldReader, journey: String, policies: [String: ExecutionPolicy], states: StateFramework
    ) throws(FulcrumError) -> Step {
        let id = try identifier(reader, "id")
        let inputs = try names(reader, "on")
        if inputs.isEmpty { throw reader.error("on", "must name at least one business event") }
        let filter = try condition(reader, "filter")
        var stepPolicies: [ExecutionPolicy] = []
        for (index, name) in try names(reader, "policies").enumerated() {
            guard let policy = policies[name] else {
                throw reader.error(at: reader.value("policies")!.location, "\(reader.fieldPath("policies"))[\(index)]", "no policy is called \(name)")
            }
            stepPolicies.append(policy)
        }
        let action = try decodeAction(reader)
        let transition = try reader.string("transition")
        if let transition, !states.isState(transition, of: .order) {
            throw reader.error("transition", "\(transition) is not a state of order (add it under states.order.add)")
        }
        if action == nil, transition == nil, stepPolicies.isEmpty {
            throw reader.error("action", "a step needs an action, a transition or policies")
        }
        let defaults: (success: [String], failure: [String]) = action?.defaultEvents ?? (["\(id).succeeded"], ["\(id).failed"])
        let success = reader.has("success") ? try names(reader, "success") : defaults.success
        let failure = reader.has("failure") ? try names(reader, "failure") : defaults.failure
        if let loop = (success + failure).first(where: { inputs.contains($0) }) {
            throw reader.error("success", "the step would start itself again with \(loop)")
        }
        let resume = try reader.string("resume_on_error")
        var batch: BatchWindow?
        if let window = try reader.mapping("batch") {
            guard case .optimizeAndReserve = action else {
                throw reader.error("batch", "only optimize_and_reserve steps batch orders")
            }
            batch = BatchWindow(
                windowMilliseconds: try window.requiredInt("window_ms", in: 1...600_000),
                ordersMax: try window.int("orders_max", in: 1...1_000) ?? 100)
            try window.finish()
        }
        let onShortage = try reader.choice("on_shortage", ShortagePolicy.self)
        if onShortage != nil {
            guard case .optimizeAndReserve = action else {
                throw reader.error("on_shortage", "only optimize_and_reserve steps backorder orders")
            }
        }
        return Step(
            id: id, journey: journey, inputEvents: inputs, filter: filter, policies: stepPolicies, action: action,
            transition: transition, successEvents: success, failureEvents: failure, resumeOnError: resume, batch: batch,
            onShortage: onShortage)
    }

    private static func decodeAction(_ reader: FieldReader) throws(FulcrumError) -> StepAction? {
        guard let name = try reader.string("action") else { return nil }
        let action: StepAction
        switch name {
        case "optimize_and_reserve":
            action = .optimizeAndReserve(strategy: try reader.choice("strategy", Strategy.self), profile: try reader.name("profile"))
        case "assign_source": action = .assignSource
        case "create_fulfillment_orders": action = .createFulfillmentOrders
        case "send_to_provider":
            let provider = try identifier(reader, "provider")
            action = .sendToProvider(
                provider: provider, message: try reader.choice("message", ProviderMessageKind.self) ?? .fulfillmentOrders)
        case "confirm_shipment": action = .confirmShipment
        case "record_pickup": action = .recordPickup
        case "cancel_and_release": action = .cancelAndRelease
        case "optimize_return_location": action = .optimizeReturnLocation
        case "restock_return": action = .restockReturn
        default:
            throw reader.error(
                "action",
                "'\(name)' is not an action (optimize_and_reserve, assign_source, create_fulfillment_orders, send_to_provider, confirm_shipment, record_pickup, cancel_and_release, optimize_return_location, restock_return)")
        }
        for key in ["strategy", "profile", "provider", "message"] where reader.has(key) {
            _ = reader.value(key)
            let allowed: Bool
            switch (key, action) {
            case ("strategy", .optimizeAndReserve), ("profile", .optimizeAndReserve), ("provider", .sendToProvider),
                ("message", .sendToProvider):
                allowed = true
            default: allowed = false
            }
            if !allowed { throw reader.error(key, "\(key) does not apply to \(name)") }
        }
        return action
    }
}
