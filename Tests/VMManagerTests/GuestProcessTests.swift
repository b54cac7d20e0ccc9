import Foundation
import IntegrationSupport
import Testing
@testable import VMManager

/// Finding a guest's process without libvirt: the run directory the hypervisor URI names, and the command line
/// that must name the guest. Processes here are python3 started under the command names libvirt uses
/// (`exec -a`), with a pid file where that libvirtd would write one: what is tested is vmmanager's matching and
/// killing, not libvirt.
@Suite("The guest's process without libvirt")
struct GuestProcessTests {
    @Test("the run directory follows the URI's driver: qemu, lxc, a socket's directory; none for a remote host")
    func runDirectories() {
        #expect(GuestProcess.runDirectory(of: "qemu:///system") == "/run/libvirt/qemu")
        #expect(GuestProcess.runDirectory(of: "lxc:///system") == "/run/libvirt/lxc")
        #expect(GuestProcess.runDirectory(of: "lxc:///") == "/run/libvirt/lxc")
        #expect(GuestProcess.runDirectory(of: "lxc+unix:///system?socket=/srv/b/libvirt-sock") == "/srv/b/lxc")
        #expect(GuestProcess.runDirectory(of: "qemu+unix:///system?socket=/srv/b/libvirt-sock") == "/srv/b/qemu")
        #expect(GuestProcess.runDirectory(of: "qemu+ssh://peer/system") == nil)
        #expect(GuestProcess.runDirectory(of: "lxc+ssh://peer/") == nil)
        #expect(GuestProcess(guest: "c1", uuid: nil, hypervisor: "lxc:///system").kind == .container)
        #expect(GuestProcess(guest: "v1", uuid: nil, hypervisor: "qemu:///system").kind == .qemu)
    }

    /// A process whose command line is `argv0 -c <code> args...`, and its pid written to `pidFile` (Debian's
    /// python3 itself: a wrapper such as pyenv's would replace argv0).
    func spawn(argv0: String, code: String, _ args: [String], pidFile: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec -a \"$0\" /usr/bin/python3 -c \"$1\" \"${@:2}\"", argv0, code] + args
        try process.run()
        try "\(process.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        return process
    }

    func waitForCommandLine(_ pid: Int32, containing text: String) async throws {
        for _ in 0..<100 {
            if let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                String(decoding: data, as: UTF8.self).contains(text)
            {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("process \(pid) never showed \(text)")
    }

    @Test("a container is its libvirt_lxc controller named --name; the kill takes its init (child) too")
    func containerController() async throws {
        let dir = try scratchDirectory("guest-process")
        try FileManager.default.createDirectory(atPath: "\(dir)/lxc", withIntermediateDirectories: true)
        let uri = "lxc+unix:///system?socket=\(dir)/libvirt-sock"
        // The controller forks the container's init and waits; both sleep.
        let controller = try spawn(
            argv0: "/usr/lib/libvirt/libvirt_lxc",
            code: "import os, time\nif os.fork() == 0:\n    time.sleep(30)\nelse:\n    time.sleep(30)",
            ["--name", "c1", "--console", "27", "--handshake", "30"], pidFile: "\(dir)/lxc/c1.pid")
        defer { if controller.isRunning { kill(controller.processIdentifier, SIGKILL) } }
        let pid = controller.processIdentifier
        try await waitForCommandLine(pid, containing: "libvirt_lxc")
        var children: [pid_t] = []
        for _ in 0..<100 where children.isEmpty {
            children = GuestProcess.children(of: pid)
            try await Task.sleep(for: .milliseconds(20))
        }
        let initPID = try #require(children.first, "the controller's child never appeared")
        #expect(GuestProcess(guest: "c1", uuid: nil, hypervisor: uri).find() == pid)
        // Another container's name, or the QEMU driver's directory, is not this process.
        #expect(GuestProcess(guest: "c2", uuid: nil, hypervisor: uri).find() == nil)
        #expect(
            GuestProcess(guest: "c1", uuid: nil, hypervisor: "qemu+unix:///system?socket=\(dir)/libvirt-sock").find()
                == nil)
        #expect(await GuestProcess(guest: "c1", uuid: nil, hypervisor: uri).kill(timeout: .seconds(5)))
        controller.waitUntilExit()
        // The init was killed, not left behind as an orphan.
        var initGone = false
        for _ in 0..<100 {
            let stat = (try? String(contentsOfFile: "/proc/\(initPID)/stat", encoding: .utf8)) ?? ""
            if stat.isEmpty || stat.split(separator: ")").last?.split(separator: " ").first == "Z" {
                initGone = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(initGone, "the container's init \(initPID) survived its controller's kill")
    }

    @Test("a process that is not libvirt_lxc, behind the pid file, is never the container")
    func notAController() async throws {
        let dir = try scratchDirectory("guest-process-other")
        try FileManager.default.createDirectory(atPath: "\(dir)/lxc", withIntermediateDirectories: true)
        let other = try spawn(
            argv0: "/usr/bin/sleepy", code: "import time\ntime.sleep(30)", ["--name", "c1"],
            pidFile: "\(dir)/lxc/c1.pid")
        defer { kill(other.processIdentifier, SIGKILL) }
        try await waitForCommandLine(other.processIdentifier, containing: "sleepy")
        let process = GuestProcess(guest: "c1", uuid: nil, hypervisor: "lxc+unix:///system?socket=\(dir)/libvirt-sock")
        #expect(process.find() == nil)
        #expect(await process.kill(timeout: .seconds(1)))
        #expect(other.isRunning, "a process that is not the container was killed")
    }
}
