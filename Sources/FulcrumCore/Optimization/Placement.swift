/// How precisely an address was placed: from its own coordinates, or by the
/// gazetteer from its postal code, city, region or country (most precise first).
public enum PlacementPrecision: String, Sendable, CaseIterable {
    case coordinates
    case postalCode = "postal_code"
    case city
    case region
    case country
}

extension Address {
    /// The error for an address without coordinates that the gazetteer
    /// cannot place, at its most precise field under `path` (`ship_to`).
    public func unplaceable(path: String) -> FulcrumError {
        let given = [("postal code", postalCode), ("city", city), ("region", region)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        let field =
            country == nil
            ? "country" : postalCode != nil ? "postal_code" : city != nil ? "city" : region != nil ? "region" : "country"
        return FulcrumError(
            .invalidArgument,
            country.map {
                "the ship-to address has no coordinates, and the gazetteer has no place for country \($0)"
                    + (given.isEmpty ? "" : " with " + given.joined(separator: ", "))
            } ?? "the ship-to address has no coordinates and no country to place it in",
            path: path + "." + field)
    }
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

