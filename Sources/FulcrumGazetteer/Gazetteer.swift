import Foundation
import FulcrumCore

/// The offline gazetteer: US ZIP code centroids and GeoNames places of 15,000
/// people or more (`scripts/build-gazetteer.py`; NOTICE has the attribution).
/// A region or a country is placed at its most populous place. Read once, on
/// first use.
public struct Gazetteer: Sendable {
    struct Place: Sendable {
        var region: String
        var name: String
        var latitude: Double
        var longitude: Double
        var population: Int
    }

    private let zipCodes: [UInt32: (latitude: Double, longitude: Double)]
    /// By country and folded name; the most populous first.
    private let places: [String: [Place]]
    private let regions: [String: Place]
    private let countries: [String: Place]

    /// The gazetteer shipped with Fulcrum.
    public static let shipped: Gazetteer = {
        guard let url = Bundle.module.url(forResource: "gazetteer", withExtension: "tsv"),
            let data = try? Data(contentsOf: url)
        else {
            preconditionFailure("the gazetteer resource is missing from the build")
        }
        return Gazetteer(tsv: data)
    }()

    /// Reads the rows `scripts/build-gazetteer.py` writes, byte by byte (it
    /// loads on the first address without coordinates: a few milliseconds).
    init(tsv: Data) {
        var zipCodes: [UInt32: (latitude: Double, longitude: Double)] = [:]
        var places: [String: [Place]] = [:]
        var regions: [String: Place] = [:]
        var countries: [String: Place] = [:]
        zipCodes.reserveCapacity(45_000)
        places.reserveCapacity(40_000)
        tsv.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var fields: [Range<Int>] = []
            fields.reserveCapacity(8)
            var start = 0
            while start < bytes.count {
                var end = start
                fields.removeAll(keepingCapacity: true)
                var fieldStart = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") {
                    if bytes[end] == UInt8(ascii: "\t") {
                        fields.append(fieldStart..<end)
                        fieldStart = end + 1
                    }
                    end += 1
                }
                fields.append(fieldStart..<end)
                defer { start = end + 1 }
                func text(_ index: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[fields[index]]), as: UTF8.self) }
                func number(_ index: Int) -> Double? { Self.decimal(UnsafeBufferPointer(rebasing: bytes[fields[index]])) }
                guard let kind = fields.first.flatMap({ $0.count == 1 ? bytes[$0.lowerBound] : nil }) else { continue }
                if kind == UInt8(ascii: "Z"), fields.count == 4, let zip = number(1), let latitude = number(2), let longitude = number(3) {
                    zipCodes[UInt32(zip)] = (latitude, longitude)
                } else if kind == UInt8(ascii: "P"), fields.count == 8, let latitude = number(5), let longitude = number(6),
                    let population = number(7)
                {
                    let country = text(1)
                    let place = Place(region: text(2), name: text(4), latitude: latitude, longitude: longitude, population: Int(population))
                    places[country + "\u{1}" + text(3), default: []].append(place)
                    let regionKey = country + "\u{1}" + place.region
                    if regions[regionKey].map({ $0.population < place.population }) ?? true { regions[regionKey] = place }
                    if countries[country].map({ $0.population < place.population }) ?? true { countries[country] = place }
                }
            }
        }
        for key in places.keys where places[key]!.count > 1 { places[key]!.sort { $0.population > $1.population } }
        self.zipCodes = zipCodes
        self.places = places
        self.regions = regions
        self.countries = countries
    }

    /// `-73.5878`, `10001`, `1762949`: the decimals the builder writes.
    private static func decimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var scale: Int64 = 1
        var digits = 0
        var afterPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "."), !afterPoint {
                afterPoint = true
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), digits < 15 {
                if afterPoint {
                    fraction = fraction * 10 + Int64(byte - UInt8(ascii: "0"))
                    scale *= 10
                } else {
                    whole = whole * 10 + Int64(byte - UInt8(ascii: "0"))
                }
                digits += 1
            } else {
                return nil
            }
            index += 1
        }
        guard digits > 0 else { return nil }
        let value = Double(whole) + Double(fraction) / Double(scale)
        return negative ? -value : value
    }

    /// A name as compared: compatibility-decomposed, combining marks dropped,
    /// lowercased, spaces collapsed (the builder folds the shipped names alike).
    static func fold(_ name: String) -> String {
        let scalars = name.decomposedStringWithCompatibilityMapping.unicodeScalars.filter {
            $0.properties.canonicalCombiningClass == .notReordered
        }
        return String(String.UnicodeScalarView(scalars)).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The most precise placement the address allows: its postal code (US
    /// ZIP codes, ZIP+4 read as the ZIP), else its city (within its region
    /// when it names one), else its region, else its country. `country` is an
    /// ISO 3166-1 alpha-2 code. Nil: nothing matched.
    public func place(country: String?, region: String?, postalCode: String?, city: String?) -> Placement? {
        guard let country = country?.trimmingCharacters(in: .whitespaces).uppercased(), !country.isEmpty else { return nil }
        let region = region?.trimmingCharacters(in: .whitespaces).uppercased()
        if country == "US", let postalCode, let zip = Self.zip(postalCode), let centroid = zipCodes[zip] {
            return Placement(
                latitude: centroid.latitude, longitude: centroid.longitude, precision: .postalCode,
                matched: "\(String(format: "%05u", zip)) (\(country))")
        }
        if let city, let candidates = places[country + "\u{1}" + Self.fold(city)] {
            let place = candidates.first { $0.region.uppercased() == region } ?? candidates[0]
            return placement(place, .city, matched: [place.name, place.region, country].filter { !$0.isEmpty }.joined(separator: ", "))
        }
        if let region, let place = regions[country + "\u{1}" + region] {
            return placement(place, .region, matched: "\(region), \(country) (at \(place.name))")
        }
        if let place = countries[country] { return placement(place, .country, matched: "\(country) (at \(place.name))") }
        return nil
    }

    private func placement(_ place: Place, _ precision: PlacementPrecision, matched: String) -> Placement {
        Placement(latitude: place.latitude, longitude: place.longitude, precision: precision, matched: matched)
    }

    /// `10001` or `10001-1234` as the ZIP 10001.
    private static func zip(_ text: String) -> UInt32? {
        let digits = text.trimmingCharacters(in: .whitespaces).prefix { $0 != "-" && $0 != " " }
        guard digits.count == 5, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return UInt32(digits)
    }
}
