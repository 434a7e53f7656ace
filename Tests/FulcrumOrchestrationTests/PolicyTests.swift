import FulcrumCore
import FulcrumOrchestration
import FulcrumTestSupport
import Testing

@Suite struct PolicyTests {
    static let journeys = """
        version: 1
        states:
          order:
            add: [on_hold]
            transitions:
              - {from: created, to: on_hold}
              - {from: on_hold, to: created}
        policies:
          - id: california-from-san-francisco
            when: "ship_to.region == 'CA'"
            set: {source_node: STORE-SF}
          - id: big-orders-from-dcs
            when: "max_line_quantity >= 100"
            set: {source_kind: warehouse}
          - id: no-huge-orders
            when: "total_quantity > 400"
            fail: orders over 400 units need a quote
        journeys:
          - id: sourcing
            steps:
              - id: hold-b2b
                on: [order.created]
                filter: "attributes.channel == 'b2b'"
                transition: on_hold
                success: [order.held]
              - id: source
                on: [order.created, order.hold_released]
                filter: "not (attributes.channel == 'b2b') or event == 'order.hold_released'"
                policies: [no-huge-orders, california-from-san-francisco, big-orders-from-dcs]
                action: optimize_and_reserve
                resume_on_error: source
              - id: release-hold
                on: [order.release_requested]
                transition: created
                success: [order.hold_released]
        """

    static func order(_ id: String, region: String, quantity: Int64, channel: String? = nil) -> BusinessEvent {
        var event = Harness.intake(id, [("TEE-WHT-L", quantity)], region: region)
        if let channel { event.intake!.attributes["channel"] = channel }
        return event
    }

    @Test func executionPoliciesSetTheSourceOrFailTheStep() async throws {
        let harness = try await Harness.make(journeys: Self.journeys)
        try await harness.submit(Self.order("CA-1", region: "CA", quantity: 1))
        var order = try harness.order("CA-1")
        #expect(order.state == OrderStates.reserved)
        #expect(order.sourceNode == "STORE-SF")
        #expect(order.lines[0].allocations == ["STORE-SF": 1])
        let decisions = try harness.orchestrator.timeline("CA-1").filter { $0.kind == .policy }.map(\.text)
        #expect(decisions == [
            "policy no-huge-orders does not apply (total_quantity > 400)",
            "policy california-from-san-francisco sets source_node = 'STORE-SF'",
            "policy big-orders-from-dcs does not apply (max_line_quantity >= 100)",
        ])

        try await harness.submit(Self.order("NY-BIG", region: "NY", quantity: 120))
        order = try harness.order("NY-BIG")
        #expect(order.sourceKind == "warehouse")
        #expect(order.lines[0].allocations.keys.allSatisfy { $0.hasPrefix("DC-") })

        try await harness.submit(Self.order("NY-HUGE", region: "NY", quantity: 401))
        order = try harness.order("NY-HUGE")
        #expect(order.state == OrderStates.created)
        #expect(order.failure?.code == "policy_failed")
        #expect(order.failure?.message == "orders over 400 units need a quote")
        #expect(try harness.service.reservation(order: "NY-HUGE") == nil)
    }

    /// A policy chooses the fulfillment profile per order, over the step's;
    /// orders under different profiles never share a batch window.
    @Test func aPolicySetsTheOrdersProfile() async throws {
        let journeys = """
            version: 1
            policies:
              - id: wholesale-from-central
                when: "attributes.channel == 'wholesale'"
                set: {profile: no-east}
            journeys:
              - id: sourcing
                steps:
                  - id: source
                    on: [order.created]
                    policies: [wholesale-from-central]
                    action: optimize_and_reserve
                    profile: standard
                    batch: {window_ms: 200, orders_max: 2}
            """
        let profiles = FulfillmentProfiles(
            [FulfillmentProfile(name: "no-east", rules: Rules(exclude: [Exclusion(node: "DC-EAST"), Exclusion(kind: .store)]))],
            source: nil)
        let harness = try await Harness.make(journeys: journeys, profiles: profiles)
        _ = try await harness.orchestrator.submit(Self.order("RETAIL-1", region: "NY", quantity: 1))
        _ = try await harness.orchestrator.submit(Self.order("WHOLESALE-1", region: "NY", quantity: 1, channel: "wholesale"))
        try await harness.idle()
        #expect(try harness.order("RETAIL-1").profile == nil)
        #expect(try harness.order("RETAIL-1").lines[0].allocations == ["DC-EAST": 1])
        let order = try harness.order("WHOLESALE-1")
        #expect(order.profile == "no-east")
        #expect(order.lines[0].allocations == ["DC-CENTRAL": 1])
        let timeline = try harness.orchestrator.timeline("WHOLESALE-1").map(\.text)
        #expect(timeline.contains("policy wholesale-from-central sets profile = 'no-east'"), "\(timeline)")
        #expect(timeline.contains { $0.hasPrefix("plan (profile no-east)") }, "\(timeline)")
    }

    @Test func filtersRouteOrdersAndCustomStatesHoldThem() async throws {
        let harness = try await Harness.make(journeys: Self.journeys)
        try await harness.submit(Self.order("B2B-1", region: "NY", quantity: 2, channel: "b2b"))
        #expect(try harness.order("B2B-1").state == "on_hold")
        #expect(try harness.service.reservation(order: "B2B-1") == nil)
        let filters = try harness.orchestrator.timeline("B2B-1").filter { $0.kind == .filter }.map(\.text)
        #expect(filters.contains("skipped: filter not (attributes.channel == 'b2b') or event == 'order.hold_released' does not match"))
        try await harness.submit(BusinessEvent(name: "order.release_requested", order: "B2B-1", source: "ops"))
        #expect(try harness.order("B2B-1").state == OrderStates.reserved)
        // on_hold → reserved is not a transition: a second release fails, recorded.
        try await harness.submit(BusinessEvent(name: "order.release_requested", order: "B2B-1", source: "ops"))
        #expect(try harness.order("B2B-1").failure?.code == "transition_not_allowed")
    }

    @Test func conditionsEvaluate() throws {
        func holds(_ text: String, _ values: [String: ConditionValue]) throws -> Bool {
            try Condition(text, path: "test", isKnownField: { _ in true }).holds { values[$0] ?? .null }
        }
        #expect(try holds("a == 1 and b != 'x'", ["a": .number(1), "b": .string("y")]))
        #expect(try holds("a in ['WA', 'OR']", ["a": .string("OR")]))
        #expect(try !holds("a in ['WA', 'OR']", ["a": .string("CA")]))
        #expect(try holds("'X' in skus", ["skus": .list([.string("X"), .string("Y")])]))
        #expect(try holds("not missing > 3", [:]))
        #expect(try holds("missing == null", [:]))
        #expect(try holds("(a < 2 or a >= 10) and not (b)", ["a": .number(12), "b": .bool(false)]))
        #expect(try !holds("a < 'text'", ["a": .number(1)]))
        #expect(try holds("n >= -1.5", ["n": .number(-1.5)]))
    }

    @Test(arguments: [
        ("", "column 1: the condition is empty"),
        ("total_quantity >", "column 17: expected a value after '>'"),
        ("total_quantity = 3", "column 16: '=' is not an operator; compare with '=='"),
        ("ship_to.regoin == 'WA'", "column 1: unknown field 'ship_to.regoin'"),
        ("(total_quantity > 3", "column 20: expected ')' but found the end of the condition"),
        ("source == 'shopify", "column 11: the text starting here has no closing '"),
        ("skus in ['A' 'B']", "column 14: expected ']' or ',' but found text 'B'"),
        ("total_quantity > 3 3", "column 20: unexpected number 3"),
        ("id # 3", "column 4: unexpected character '#'"),
    ])
    func badConditionsAreTypedErrors(text: String, message: String) {
        #expect(throws: FulcrumError(.invalidPolicy, message, path: "f.yaml:3:9: when")) {
            try Condition(text, path: "f.yaml:3:9: when")
        }
    }

    @Test(arguments: [
        ("version: 1\n", "test.yaml:1:1: journeys", "must list at least one journey"),
        ("version: 2\njourneys: []\n", "test.yaml:1:10: version", "version 2 is not supported (1 is)"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        action: teleport\n", "test.yaml:7:17: journeys[0].steps[0].action", "is not an action"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        action: assign_source\n        colour: red\n", "test.yaml:8:9: journeys[0].steps[0].colour", "unknown field"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        policies: [nope]\n", "test.yaml:7:19: journeys[0].steps[0].policies[0]", "no policy is called nope"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        action: assign_source\n        resume_on_error: t\n", "test.yaml:8:26: journeys[0].steps[0].resume_on_error", "no step is called t"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        transition: frozen\n", "test.yaml:7:21: journeys[0].steps[0].transition", "frozen is not a state of order"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        action: assign_source\n        success: [order.created]\n", "test.yaml:8:18: journeys[0].steps[0].success", "would start itself again"),
        ("version: 1\npolicies:\n  - id: p\n    when: \"x == 1\"\n    fail: no\njourneys: []\n", "test.yaml:4:11: policies[0].when", "column 1: unknown field 'x'"),
        ("version: 1\npolicies:\n  - id: p\n    when: \"id == 'a'\"\n    set: {warehouse: A}\njourneys: []\n", "test.yaml:5:22: policies[0].set.warehouse", "warehouse cannot be set"),
        ("version: 1\nstates:\n  order:\n    transitions:\n      - {from: created, to: limbo}\njourneys: []\n", "test.yaml:5:29: states.order.transitions[0].to", "limbo is not a state of order"),
        ("version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        action: send_to_provider\n", "test.yaml:5:9: journeys[0].steps[0].provider", "is required"),
        ("version: 1\njourneys: [\n", "test.yaml:3:1", "not valid YAML"),
    ])
    func badJourneyFilesNameFileLineAndField(yaml: String, path: String, message: String) {
        do {
            _ = try JourneyBook.decode(yaml: yaml, file: "test.yaml")
            Issue.record("decoded a bad journey file")
        } catch {
            #expect(error.path == path)
            #expect(error.message.contains(message), "\(error.message)")
            #expect([.invalidJourney, .invalidPolicy].contains(error.code))
        }
    }
}
