import Foundation
import FulcrumCore
import Testing

@testable import FulcrumOrchestration

/// The fulfillment order message body rendered by hand is the document
/// Foundation's encoder makes of the same value (compared parsed, so that
/// number spelling such as `42` against `42.0` does not matter).
struct MessageBodyTests {
    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func theRenderedBodyIsTheEncodedOne(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        func maybe(_ text: String) -> String? { random.next() % 2 == 0 ? text : nil }
        let lines = (0..<(1 + random.next() % 3)).map { index in
            OrderRecord.FulfillmentOrder.Line(line: "\(index)", sku: "SKU-\"\(index)\"/é", quantity: Int64(random.next() % 9 + 1))
        }
        let body = FulfillmentOrderMessage(
            order: "O-\(seed)\n",
            fulfillmentOrder: .init(id: "O-\(seed)/FO-1", node: "DC-1", lines: lines, state: "created", tracking: maybe("1Z\\99")),
            shipTo: Address(
                latitude: random.next() % 3 == 0 ? nil : Double(random.next() % 180) / 2 - 45,
                longitude: random.next() % 3 == 0 ? nil : -Double(random.next() % 3_600) / 20, region: maybe("NY"),
                country: maybe("US"), postalCode: maybe("10001"), city: maybe("New \u{1F5FD} York")),
            shippingMethod: maybe("express"))
        let rendered = try JSONSerialization.jsonObject(with: Data(body.json.utf8)) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: Data(RecordCoding.text(body).utf8)) as? NSDictionary
        #expect(rendered != nil && rendered == encoded, "\(body.json)\n\(RecordCoding.text(body))")
    }
}
