import ArgumentParser
import Dispatch
import FulcrumCore
import FulcrumService

/// `fulcrum place --country CC [--postal-code P] [--city C] [--region R]`:
/// where the gazetteer places an address without coordinates, as a live
/// journey would, and how long loading the gazetteer took.
struct Place: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Place an address without coordinates with the offline gazetteer (as journeys do).")

    @Option(help: "ISO 3166-1 alpha-2 country code (US, CA, FR).") var country: String
    @Option(help: "Postal code (US ZIP codes; ZIP+4 reads as the ZIP).") var postalCode: String?
    @Option(help: "City or town.") var city: String?
    @Option(help: "Region: a US state code, or the first-level region's GeoNames code.") var region: String?

    func run() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let placement = Service.place(Address(region: region, country: country, postalCode: postalCode, city: city))
        let elapsedMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        guard let placement else {
            printErrorJSON(FulcrumError(.invalidArgument, "the gazetteer has no place for this address", path: "country"))
            throw ExitCode(1)
        }
        print(
            JSON.orderedObject([
                ("latitude", .number(placement.latitude)), ("longitude", .number(placement.longitude)),
                ("precision", .string(placement.precision.rawValue)), ("matched", .string(placement.matched)),
                ("milliseconds", .number((elapsedMilliseconds * 100).rounded() / 100)),
            ]).rendered)
    }
}
