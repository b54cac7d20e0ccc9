/// vmmanager's version, written in this one place: `vmmanager --version`, `vmctl --version`, the agent's OCF
/// meta-data and the Debian package (`make deb` reads this line) all take it from here.
public let vmmanagerVersion = "0.3.0"
