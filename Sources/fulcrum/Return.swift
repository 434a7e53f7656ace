import ArgumentParser
import Foundation
import FulcrumCore
import FulcrumService

/// `fulcrum return`: choose where a customer return should go (shape in models/returns.md).
struct Return: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return", abstract: "Choose the location that receives a return at the least shipping plus handling.")

    @Option(help: "The return request file (JSON); standard input when absent.") var request: String?
    @Flag(help: "Add why each other node was not chosen.") var explain = false

    func run() throws {
        let input = try readRequest(request)
        do {
            let parsed = try ReturnRequest.decode(json: input)
            print(String(decoding: Service.chooseReturnNode(parsed, explain: explain).json(), as: UTF8.self))
        } catch {
            throw fail(error, json: true)
        }
    }
}
