import FulcrumCore

/// "host:port" as given to `--server` and `--listen`.
public enum ServerAddress {
    public static func parse(_ address: String) throws(FulcrumError) -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port), colon != address.startIndex
        else {
            throw FulcrumError(.invalidArgument, "expected HOST:PORT, e.g. 127.0.0.1:7400; got \(address)", path: "server")
        }
        return (String(address[..<colon]), port)
    }
}
