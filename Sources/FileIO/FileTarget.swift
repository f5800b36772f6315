import Foundation

/// A path that cannot be written, with the system's reason.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// "PATH: WHAT: the text of errno".
    static func system(_ path: String, _ what: String, _ code: Int32 = errno) -> FileError {
        FileError("\(path): \(what): \(String(cString: strerror(code)))")
    }
}

/// What may be written at a path, and the temporary names beside it.
///
/// A target that exists must be a regular file. A symbolic link there is refused, not resolved: a
/// link planted at the output path would otherwise redirect the write to wherever it points, and
/// replacing it would silently break a link the user made. A FIFO, device, socket or directory is
/// refused too, so that writing never blocks on, writes into, or replaces a node that is not a file.
public enum FileTarget {
    /// Throws, naming the path and what is there, unless `path` is absent or a regular file.
    /// Returns whether the file exists. Symbolic links are not followed.
    @discardableResult
    public static func checkReplaceable(_ path: String) throws -> Bool {
        guard let kind = try kind(path) else { return false }
        guard kind == S_IFREG else { throw FileError("\(path): is \(describe(kind)), not a regular file; refusing to write it") }
        return true
    }

    /// The file type bits of `lstat(path)`; nil when nothing is there.
    static func kind(_ path: String) throws -> mode_t? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw FileError.system(path, "cannot look at it")
        }
        return st.st_mode & S_IFMT
    }

    static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }

    /// The directory holding `path` and the name in it.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// `.NAME.tmp-`: how every temporary file or directory that writes NAME begins.
    public static func temporaryPrefix(for name: String) -> String { "." + name + ".tmp-" }

    /// A fresh temporary path beside `path`: `.NAME.tmp-` and 16 hex digits from the system's random
    /// source, so another user cannot plant a link or a file there in advance.
    static func temporaryPath(beside path: String) -> String {
        let (directory, name) = split(path)
        var random = SystemRandomNumberGenerator()
        let hex = String(random.next() as UInt64, radix: 16)
        return directory + "/" + temporaryPrefix(for: name) + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Removes what killed writes of `url` left beside it (temporary files and directories).
    public static func removeLeftovers(of url: URL) {
        let (directory, name) = split(url.path)
        let prefix = temporaryPrefix(for: name)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: directory + "/" + entry)
        }
    }

    /// fsync of a directory, so that a rename in it survives a crash of the machine.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.system(path, "cannot open the directory to sync it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError.system(path, "cannot sync the directory") }
    }
}
