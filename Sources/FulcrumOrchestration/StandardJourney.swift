extension JourneyBook {
    /// The journeys fulcrumd runs without `--journeys FILE`: source and
    /// reserve each order, release it to fulfilment, send its fulfilment
    /// orders to the `fulfilment` provider, record shipments; cancellations
    /// and returns. `docs/orchestration.md` shows it with comments.
    public static let standardYAML = """
        version: 1
        journeys:
          - id: fulfilment
            steps:
              - id: source
                on: [order.created]
                action: optimize_and_reserve
                resume_on_error: source
              - id: release
                on: [order.reserved]
                action: create_fulfilment_orders
                resume_on_error: release
              - id: send-to-warehouse
                on: [order.released]
                action: send_to_provider
                provider: fulfilment
                resume_on_error: send-to-warehouse
              - id: record-shipment
                on: [fulfilment_order.shipped]
                action: confirm_shipment
          - id: cancellation
            steps:
              - id: cancel
                on: [order.cancel_requested]
                action: cancel_and_release
          - id: returns
            steps:
              - id: locate-return
                on: [return.requested]
                action: optimize_return_location

        """

    /// The standard journeys, decoded.
    public static func standard() -> JourneyBook {
        do {
            return try decode(yaml: standardYAML, file: "standard")
        } catch {
            preconditionFailure("the standard journey is valid: \(error)")
        }
    }
}
