import Foundation

/// Great-circle distances.
public enum Geography {
    /// The spec's Earth radius.
    public static let earthRadiusKilometers = 6371.0

    /// Haversine distance between two points, in kilometres.
    public static func distanceKilometers(_ a: Location, _ b: Location) -> Double {
        let radians = Double.pi / 180
        let deltaLatitude = (b.latitude - a.latitude) * radians
        let deltaLongitude = (b.longitude - a.longitude) * radians
        let h = pow(sin(deltaLatitude / 2), 2)
            + cos(a.latitude * radians) * cos(b.latitude * radians) * pow(sin(deltaLongitude / 2), 2)
        return 2 * earthRadiusKilometers * atan2(sqrt(h), sqrt(1 - h))
    }
}
