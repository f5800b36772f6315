import Foundation

/// Writes several files that belong together (an exported model) as one directory, published with
/// one rename: built in a fresh temporary directory beside the target (unpredictable name, mkdir
/// is exclusive), synced, then renamed to the target when it is absent, or exchanged with the
/// existing directory atomically (renameat2 RENAME_EXCHANGE) whose old contents are then removed.
/// A process killed at any moment leaves the complete old directory or the complete new one; what
/// it may leave besides is a hidden `.NAME.tmp-…` beside the target (`FileTarget.removeLeftovers`).
public enum AtomicDirectory {
    /// Builds the directory with `body`, which writes its files into the URL it is given.
    /// An existing target must be a directory (not a link to one); `replacing` sees it first and
    /// throws to keep it (deciding what may be replaced wholesale is the caller's).
    public static func write(to url: URL, replacing: (URL) throws -> Void, _ body: (URL) throws -> Void) throws {
        let path = url.path
        let exists = try checkReplaceable(url, replacing: replacing)
        let temporary = try createTemporary(beside: path)
        do {
            try body(URL(fileURLWithPath: temporary, isDirectory: true))
            try FileTarget.syncDirectory(temporary)
            if exists {
                try exchange(temporary, path)
            } else if rename(temporary, path) != 0 {
                throw FileError.system(path, "cannot rename \(temporary) into place")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        // After an exchange the temporary name holds the old directory.
        if exists { try? FileManager.default.removeItem(atPath: temporary) }
        try FileTarget.syncDirectory(FileTarget.split(path).directory)
    }

    /// Throws unless `url` is absent or a directory (not a link to one) that `replacing` accepts.
    /// Returns whether it exists.
    @discardableResult
    public static func checkReplaceable(_ url: URL, replacing: (URL) throws -> Void) throws -> Bool {
        switch try FileTarget.kind(url.path) {
        case nil: return false
        case S_IFDIR?: try replacing(url); return true
        case let kind?: throw FileError("\(url.path): is \(FileTarget.describe(kind)), not a directory; refusing to replace it")
        }
    }

    private static func createTemporary(beside path: String) throws -> String {
        for _ in 0..<16 {
            let temporary = FileTarget.temporaryPath(beside: path)
            if mkdir(temporary, 0o755) == 0 { return temporary }
            if errno != EEXIST {
                throw FileError.system(path, "cannot create a temporary directory in \(FileTarget.split(path).directory)")
            }
        }
        throw FileError("\(path): cannot create a temporary directory beside it: every name tried exists")
    }

    /// Swaps two directory entries atomically.
    private static func exchange(_ a: String, _ b: String) throws {
        guard swapEntries(a, b) == 0 else {
            throw FileError.system(b, "cannot replace the directory atomically (exchange with \(a))")
        }
    }

    #if os(Linux)
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    /// glibc (2.28 and later) exports renameat2, but its header declares it only under _GNU_SOURCE,
    /// which Swift's Glibc module does not see.
    private static let renameat2: RenameAt2? =
        dlsym(nil, "renameat2").map { unsafeBitCast($0, to: RenameAt2.self) }
    private static let renameExchange: UInt32 = 1 << 1  // RENAME_EXCHANGE, linux/fs.h

    private static func swapEntries(_ a: String, _ b: String) -> Int32 {
        guard let renameat2 else { errno = ENOSYS; return -1 }
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange)
    }
    #else
    private static func swapEntries(_ a: String, _ b: String) -> Int32 { renamex_np(a, b, UInt32(RENAME_SWAP)) }
    #endif
}
