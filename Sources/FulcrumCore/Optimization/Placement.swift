/// How precisely an address was placed: from its own coordinates, or by the
/// gazetteer from its postal code, city, region or country (most precise first).
public enum PlacementPrecision: String, Sendable, CaseIterable {
    case coordinates
    case postalCode = "postal_code"
    case city
    case region
    case country
}

/// Where an address is, and how it was found.
public struct Placement: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double
    public var precision: PlacementPrecision
    /// What matched, for the timeline (`10001 (US)`, `Toronto, 08, CA`).
    public var matched: String

    public init(latitude: Double, longitude: Double, precision: PlacementPrecision, matched: String) {
        self.latitude = latitude
        self.longitude = longitude
        self.precision = precision
        self.matched = matched
    }
}

