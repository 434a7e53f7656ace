import FulcrumCore

// The live network between the binary protocol and the domain.

extension Fulcrum_V1_NodeSettings {
    public init(_ settings: NodeSettings) {
        self.init()
        enabled = settings.enabled
        canShip = settings.canShip
        if let capacity = settings.capacityPerDay { capacityPerDay = capacity }
        timezone = settings.timezone
    }

    public var domain: NodeSettings {
        NodeSettings(enabled: enabled, canShip: canShip, capacityPerDay: hasCapacityPerDay ? capacityPerDay : nil, timezone: timezone)
    }
}

extension Fulcrum_V1_NodeStatus {
    public init(_ status: NodeStatus) {
        self.init()
        node = .init(status.node)
        settings = .init(status.settings)
        day = status.day
        releasedQuantity = status.releasedQuantity
        changes = status.changes.map { change in
            .with {
                $0.revision = change.revision
                $0.atMs = change.atMilliseconds
                $0.caller = change.caller
                $0.before = .init(change.before)
                $0.after = .init(change.after)
                if let reason = change.reason { $0.reason = reason }
            }
        }
    }

    public func domain() throws(FulcrumError) -> NodeStatus {
        NodeStatus(
            node: try node.domain(path: "node"), settings: settings.domain, day: day, releasedQuantity: releasedQuantity,
            changes: changes.map {
                NodeChange(
                    revision: $0.revision, atMilliseconds: $0.atMs, caller: $0.caller, before: $0.before.domain,
                    after: $0.after.domain, reason: $0.hasReason ? $0.reason : nil)
            })
    }
}

extension Fulcrum_V1_UpdateNodeRequest {
    public init(node: String, _ update: NodeUpdate) {
        self.init()
        self.node = node
        if let enabled = update.enabled { self.enabled = enabled }
        if let canShip = update.canShip { self.canShip = canShip }
        switch update.capacityPerDay {
        case .units(let units): capacityPerDay = units
        case .unlimited: capacityUnlimited = true
        case nil: break
        }
        if let timezone = update.timezone { self.timezone = timezone }
        if let reason = update.reason { self.reason = reason }
    }

    public var domain: NodeUpdate {
        let capacity: NodeUpdate.Capacity? =
            switch self.capacity {
            case .capacityPerDay(let units): .units(units)
            case .capacityUnlimited(true): .unlimited
            case .capacityUnlimited(false), nil: nil
            }
        return NodeUpdate(
            enabled: hasEnabled ? enabled : nil, canShip: hasCanShip ? canShip : nil, capacityPerDay: capacity,
            timezone: hasTimezone ? timezone : nil, reason: hasReason ? reason : nil)
    }
}
