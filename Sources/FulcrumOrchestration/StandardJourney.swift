extension JourneyBook {
    /// The journeys fulcrumd runs without `--journeys FILE`: source and
    /// reserve each order, release it to fulfillment, send its fulfillment
    /// orders to the `fulfillment` provider, record shipments; cancellations
    /// and returns. `docs/orchestration.md` shows it with comments.
    public static let standardYAML = """
        version: 1
        journeys:
          - id: fulfillment
            steps:
              - id: source
                on: [order.created]
                action: optimize_and_reserve
                profile: standard
                resume_on_error: source
              - id: release
                on: [order.reserved]
                action: create_fulfillment_orders
                resume_on_error: release
              - id: send-to-warehouse
                on: [order.released]
                action: send_to_provider
                provider: fulfillment
                resume_on_error: send-to-warehouse
              - id: record-shipment
                on: [fulfillment_order.shipped]
                action: confirm_shipment
              - id: record-pickup
                on: [fulfillment_order.prepared_for_pickup, fulfillment_order.picked_up]
                action: record_pickup
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
              - id: receive-return
                on: [return.received]
                action: restock_return
              - id: refund
                on: [return.inspected]
                action: send_to_provider
                provider: storefront
                message: refund

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
