import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The bytes of one archive: a private read-only mapping of a file, or a copy of bytes handed in.
/// Tensors keep it alive, so their storages stay readable after the archive value is gone.
final class ArchiveBytes: @unchecked Sendable {
    let buffer: UnsafeRawBufferPointer
    /// Whether `buffer` is a mapping (unmapped at the end) rather than `copy` (freed at the end).
    private let mapped: Bool
    private let copy: UnsafeMutableRawBufferPointer?

    /// Maps the regular file at `path` read-only. Errors name the file.
    init(path: String) throws(TorchFormatError) {
        // O_NONBLOCK: opening a FIFO must not hang; only regular files are accepted below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw TorchFormatError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TorchFormatError("\(path): cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TorchFormatError("\(path): not a regular file") }
        let size = Int(st.st_size)
        mapped = size > 0
        copy = nil
        guard size > 0 else {
            buffer = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw TorchFormatError("\(path): cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        buffer = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// A private copy of `bytes`.
    init(copying bytes: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
        buffer = UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count)
        mapped = false
        self.copy = copy
    }

    deinit {
        if let copy { copy.deallocate() }
        if mapped, let base = buffer.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), buffer.count) }
    }

    var count: Int { buffer.count }

    // Little-endian loads at offsets the caller has already checked against `count`; the
    // preconditions are the bounds check an array would make, a net under the parsers' own checks.
    @inline(__always) func u8(_ at: Int) -> UInt8 {
        precondition(at >= 0 && at < buffer.count, "read past the archive")
        return buffer.load(fromByteOffset: at, as: UInt8.self)
    }

    @inline(__always) func u16(_ at: Int) -> UInt16 {
        precondition(at >= 0 && at <= buffer.count - 2, "read past the archive")
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    @inline(__always) func u32(_ at: Int) -> UInt32 {
        precondition(at >= 0 && at <= buffer.count - 4, "read past the archive")
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }

    @inline(__always) func u64(_ at: Int) -> UInt64 {
        precondition(at >= 0 && at <= buffer.count - 8, "read past the archive")
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// The bytes of `range`, which the caller has checked lies inside the archive.
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "slice past the archive")
        return UnsafeRawBufferPointer(rebasing: buffer[range])
    }
}
