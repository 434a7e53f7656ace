import Foundation
import FulcrumCore

/// The offline gazetteer: US ZIP code centroids and GeoNames places of 15,000
/// people or more, with each region and country at its most populous place
/// (`scripts/build-gazetteer.py`; NOTICE has the attribution). The rows stay
/// as the file has them, sorted by their bytes: loading indexes the line
/// starts (a few milliseconds) and a lookup is a binary search on a row's
/// leading fields.
public struct Gazetteer: Sendable {
    private let bytes: [UInt8]
    /// Where each line starts; the lines are in byte order.
    private let lineStarts: [Int32]

    /// The gazetteer shipped with Fulcrum, read on first use.
    public static let shipped: Gazetteer = {
        guard let url = Bundle.module.url(forResource: "gazetteer", withExtension: "tsv"),
            let data = try? Data(contentsOf: url)
        else {
            preconditionFailure("the gazetteer resource is missing from the build")
        }
        return Gazetteer(tsv: data)
    }()

    init(tsv: Data) {
        let bytes = [UInt8](tsv)
        precondition(bytes.count < Int(Int32.max), "the gazetteer is indexed with 32-bit offsets")
        var starts: [Int32] = []
        starts.reserveCapacity(bytes.count / 24)
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                starts.append(Int32(start))
                guard let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else { break }
                start = newline + 1
            }
        }
        self.bytes = bytes
        lineStarts = starts
    }

    /// The most precise placement the address allows: its postal code (US
    /// ZIP codes; ZIP+4 reads as the ZIP), else its city (within its region
    /// when it names one, else the most populous of the name), else its
    /// region, else its country. `country` is an ISO 3166-1 alpha-2 code.
    /// Nil: nothing matched.
    public func place(country: String?, region: String?, postalCode: String?, city: String?) -> Placement? {
        guard let country = country?.trimmingCharacters(in: .whitespaces).uppercased(), !country.isEmpty else { return nil }
        let region = region?.trimmingCharacters(in: .whitespaces).uppercased()
        if country == "US", let postalCode, let zip = Self.zip(postalCode),
            let row = rows(prefix: "Z\t\(zip)\t").first
        {
            return placement(row, latitude: 2, .postalCode, matched: "\(zip) (\(country))")
        }
        if let city {
            // Fields: P, country, key, region, name, latitude, longitude, population.
            let candidates = rows(prefix: "P\t\(country)\t\(Self.fold(city))\t")
            let best =
                candidates.first { $0[3] == region } ?? candidates.max { Self.number($0[7]) ?? 0 < Self.number($1[7]) ?? 0 }
            if let best {
                return placement(best, latitude: 5, .city, matched: [best[4], best[3], country].filter { !$0.isEmpty }.joined(separator: ", "))
            }
        }
        if let region, !region.isEmpty, let row = rows(prefix: "R\t\(country)\t\(region)\t").first {
            return placement(row, latitude: 4, .region, matched: "\(region), \(country) (at \(row[3]))")
        }
        if let row = rows(prefix: "K\t\(country)\t").first {
            return placement(row, latitude: 3, .country, matched: "\(country) (at \(row[2]))")
        }
        return nil
    }

    /// A name as compared: compatibility-decomposed, combining marks dropped,
    /// lowercased, spaces collapsed (the builder folds the shipped names alike).
    static func fold(_ name: String) -> String {
        let scalars = name.decomposedStringWithCompatibilityMapping.unicodeScalars.filter {
            $0.properties.canonicalCombiningClass == .notReordered
        }
        return String(String.UnicodeScalarView(scalars)).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private func placement(_ row: [String], latitude index: Int, _ precision: PlacementPrecision, matched: String) -> Placement? {
        guard let latitude = Self.number(row[index]), let longitude = Self.number(row[index + 1]) else { return nil }
        return Placement(latitude: latitude, longitude: longitude, precision: precision, matched: matched)
    }

    private static func number(_ text: String) -> Double? { Double(text) }

    /// The rows starting with `prefix` (contiguous, the file being sorted by
    /// bytes), each split into its fields.
    private func rows(prefix: String) -> [[String]] {
        let key = Array(prefix.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            func line(_ index: Int) -> Slice<UnsafeBufferPointer<UInt8>> {
                let start = Int(lineStarts[index])
                let end = index + 1 < lineStarts.count ? Int(lineStarts[index + 1]) - 1 : buffer.count
                return buffer[start..<end]
            }
            // The first line not below `key` in byte order (compared over the key's length).
            var low = 0
            var high = lineStarts.count
            while low < high {
                let middle = (low + high) / 2
                if line(middle).prefix(key.count).lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
            }
            var found: [[String]] = []
            while low < lineStarts.count, line(low).starts(with: key) {
                found.append(line(low).split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map {
                    String(decoding: $0, as: UTF8.self)
                })
                low += 1
            }
            return found
        }
    }

    /// `10001` or `10001-1234` as `10001`.
    private static func zip(_ text: String) -> String? {
        let digits = text.trimmingCharacters(in: .whitespaces).prefix { $0 != "-" && $0 != " " }
        guard digits.count == 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return String(digits)
    }
}
