import FulcrumCore
import FulcrumGazetteer
import Testing

/// The shipped gazetteer places addresses without coordinates, most precise
/// field first; what it cannot place is nil (the journey's typed error).
@Suite struct GazetteerTests {
    static let gazetteer = Gazetteer.shipped

    static func near(_ placement: Placement?, _ latitude: Double, _ longitude: Double, within degrees: Double = 0.5) -> Bool {
        guard let placement else { return false }
        return abs(placement.latitude - latitude) < degrees && abs(placement.longitude - longitude) < degrees
    }

    @Test func postalCodesCitiesRegionsAndCountries() {
        let zip = Self.gazetteer.place(country: "US", region: nil, postalCode: "10001", city: nil)
        #expect(zip?.precision == .postalCode && Self.near(zip, 40.75, -74.0), "\(String(describing: zip))")
        #expect(Self.gazetteer.place(country: "us", region: nil, postalCode: "10001-1234", city: nil) == zip)
        // A ZIP the gazetteer lacks falls back to the city, then the region.
        let city = Self.gazetteer.place(country: "US", region: "IL", postalCode: "00000", city: "Springfield")
        #expect(city?.precision == .city && Self.near(city, 39.80, -89.64), "\(String(describing: city))")
        let elsewhere = Self.gazetteer.place(country: "US", region: "MA", postalCode: nil, city: "springfield")
        #expect(elsewhere?.precision == .city && Self.near(elsewhere, 42.10, -72.59), "\(String(describing: elsewhere))")
        let accented = Self.gazetteer.place(country: "CA", region: nil, postalCode: "H2X 1Y4", city: "Montreal")
        #expect(accented?.precision == .city && Self.near(accented, 45.51, -73.59), "\(String(describing: accented))")
        let region = Self.gazetteer.place(country: "US", region: "WA", postalCode: nil, city: "Nowhere Special")
        #expect(region?.precision == .region && Self.near(region, 47.61, -122.33), "\(String(describing: region))")
        let country = Self.gazetteer.place(country: "FR", region: nil, postalCode: nil, city: nil)
        #expect(country?.precision == .country && Self.near(country, 48.85, 2.35), "\(String(describing: country))")
        #expect(Self.gazetteer.place(country: "ZZ", region: nil, postalCode: "10001", city: "Paris") == nil)
        #expect(Self.gazetteer.place(country: nil, region: "NY", postalCode: "10001", city: "New York") == nil)
    }
}
