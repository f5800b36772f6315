import Foundation

/// A log that only grows (metrics.jsonl), written in place rather than through a temporary file.
/// It is opened with O_NOFOLLOW and only when it is a regular file: a planted link is not followed
/// and a FIFO or device is refused (it never blocks: opening uses O_NONBLOCK).
public final class AppendOnlyFile {
    private let fd: Int32
    private let sink: FileSink

    /// Opens `url` for appending, creating it when absent; `truncate` empties it first.
    public init(_ url: URL, truncate: Bool) throws {
        let path = url.path
        try FileTarget.checkReplaceable(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError.system(path, "cannot open for appending") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileError("\(path): is \(FileTarget.describe(st.st_mode & S_IFMT)), not a regular file; refusing to write it")
        }
        if truncate, ftruncate(fd, 0) != 0 {
            let error = FileError.system(path, "cannot empty")
            close(fd)
            throw error
        }
        self.fd = fd
        sink = FileSink(fd: fd, path: path)
    }

    deinit { close(fd) }

    public func append(_ text: String) throws { try sink.write(Array(text.utf8)) }
}
