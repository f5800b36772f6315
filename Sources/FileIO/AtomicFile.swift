import Foundation

/// Writes a file whole or not at all: into a fresh temporary file beside the target (created with
/// O_EXCL | O_NOFOLLOW under an unpredictable name), synced, then renamed over the target and the
/// directory synced. Readers, and a process killed at any moment, see the old file or the new one.
/// The target must be absent or a regular file (`FileTarget.checkReplaceable`); on any error, a
/// throwing writer included, the temporary file is removed and the target is left as it was.
public enum AtomicFile {
    /// Writes the file with `body`, which streams its contents into the given sink.
    public static func write(to url: URL, _ body: (FileSink) throws -> Void) throws {
        let path = url.path
        try FileTarget.checkReplaceable(path)
        let (fd, temporary) = try createTemporary(beside: path)
        var isOpen = true
        do {
            try body(FileSink(fd: fd, path: path))
            // The data reaches the disk before the rename makes it the file.
            guard fsync(fd) == 0 else { throw FileError.system(path, "cannot write \(temporary)") }
            isOpen = false
            guard close(fd) == 0 else { throw FileError.system(path, "cannot write \(temporary)") }
            // Checked again: something other than a file may have appeared there meanwhile.
            try FileTarget.checkReplaceable(path)
            // rename(2) replaces the target atomically and never follows a link there.
            guard rename(temporary, path) == 0 else { throw FileError.system(path, "cannot rename \(temporary) into place") }
        } catch {
            if isOpen { close(fd) }
            unlink(temporary)
            throw error
        }
        try FileTarget.syncDirectory(FileTarget.split(path).directory)
    }

    /// Writes `bytes` as the whole file.
    public static func write(_ bytes: some Sequence<UInt8>, to url: URL) throws {
        let contents = Array(bytes)
        try write(to: url) { sink in try contents.withUnsafeBytes { try sink.write($0) } }
    }

    /// A new file beside `path`, opened for writing; retried under another name if one exists.
    private static func createTemporary(beside path: String) throws -> (fd: Int32, path: String) {
        for _ in 0..<16 {
            let temporary = FileTarget.temporaryPath(beside: path)
            let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, temporary) }
            if errno != EEXIST {
                throw FileError.system(path, "cannot create a temporary file in \(FileTarget.split(path).directory)")
            }
        }
        throw FileError("\(path): cannot create a temporary file beside it: every name tried exists")
    }
}

/// Where `AtomicFile.write` and `AppendOnlyFile` put bytes: write(2) until all are written.
public struct FileSink {
    let fd: Int32
    /// The file the bytes are for, named in errors.
    let path: String

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n = Foundation.write(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path, "cannot write")
            }
            done += n
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}
