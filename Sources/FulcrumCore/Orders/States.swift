/// The built-in states of orders (what the built-in actions move them through).
public enum OrderStates {
    public static let created = "created"
    /// Waits, nothing reserved, for stock to fill it whole (a step's `on_shortage: backorder`).
    public static let backordered = "backordered"
    /// Promised units of scheduled receipts (a step's `on_shortage: preorder`): waits, its stock held, for them to arrive.
    public static let preordered = "preordered"
    public static let reserved = "reserved"
    /// Fulfillment orders made and the stock committed.
    public static let released = "released"
    public static let partiallyShipped = "partially_shipped"
    public static let shipped = "shipped"
    public static let cancelled = "cancelled"
    /// A pickup order waiting at its store for the customer.
    public static let readyForPickup = "ready_for_pickup"
    public static let pickedUp = "picked_up"
}

public enum LineStates {
    public static let open = "open"
    /// Short of stock: waits with its order.
    public static let backordered = "backordered"
    /// Some of its units are promised from a scheduled receipt not yet arrived.
    public static let preordered = "preordered"
    public static let reserved = "reserved"
    public static let released = "released"
    public static let shipped = "shipped"
    public static let cancelled = "cancelled"
    public static let pickedUp = "picked_up"
}

public enum FulfillmentOrderStates {
    public static let created = "created"
    public static let sent = "sent"
    public static let shipped = "shipped"
    public static let cancelled = "cancelled"
    public static let readyForPickup = "ready_for_pickup"
    public static let pickedUp = "picked_up"
}

public enum ReturnStates {
    public static let requested = "requested"
    /// A node to receive it was chosen.
    public static let located = "located"
    /// Its units arrived at a node.
    public static let received = "received"
    /// Each received line has a disposition.
    public static let inspected = "inspected"
    /// Some units are on hand again (or due back once refurbished).
    public static let restocked = "restocked"
    /// Every unit was written off.
    public static let disposed = "disposed"
    /// The storefront was told to refund it, and took the message.
    public static let refunded = "refunded"
}
