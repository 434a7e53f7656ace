/// The release of this build, as `fulcrum version` and the server's Health report it.
public enum FulcrumVersion {
    public static let string = "0.1.0"
}
