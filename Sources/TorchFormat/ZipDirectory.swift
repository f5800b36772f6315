/// One stored entry of a ZIP archive: its name and where its bytes lie in the file.
struct ZipEntry: Sendable {
    let name: String
    let data: Range<Int>
}

/// The entries of a ZIP archive of stored (uncompressed) files, as torch.save writes it: the central
/// directory, each entry checked against its local header (and data descriptor), its CRC-32, and
/// against its neighbours (entries may not overlap each other or the directory).
///
/// Layout: local header + data (+ data descriptor) per entry, the central directory, for large
/// archives a ZIP64 end record and its locator, then the end record. Every offset and size read from
/// the file is checked against the file's real size before it is used.
struct ZipDirectory {
    /// Entries in central directory order.
    let entries: [ZipEntry]

    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50
    private static let descriptorSignature: UInt32 = 0x0807_4B50

    /// `file` labels errors. `checksums: false` skips the CRC-32 comparison (for fuzzing).
    init(_ bytes: ArchiveBytes, file: String, checksums: Bool = true) throws(TorchFormatError) {
        func fail(_ problem: String) -> TorchFormatError { TorchFormatError("\(file): \(problem)") }
        let directory = try Self.findDirectory(bytes, fail: fail)

        var entries: [ZipEntry] = []
        var names = Set<String>()
        var spans: [(range: Range<Int>, name: String)] = []
        var p = directory.range.lowerBound
        let end = directory.range.upperBound
        for i in 0..<directory.count {
            guard end - p >= 46 else { throw fail("central directory entry \(i) at byte \(p) is truncated") }
            guard bytes.u32(p) == Self.centralSignature else {
                throw fail("central directory entry \(i) at byte \(p) lacks its signature")
            }
            let flags = bytes.u16(p + 8), method = bytes.u16(p + 10), crc = bytes.u32(p + 16)
            let compressed32 = bytes.u32(p + 20), size32 = bytes.u32(p + 24)
            let nameLength = Int(bytes.u16(p + 28)), extraLength = Int(bytes.u16(p + 30)), commentLength = Int(bytes.u16(p + 32))
            let disk16 = bytes.u16(p + 34), offset32 = bytes.u32(p + 42)
            guard nameLength + extraLength + commentLength <= end - p - 46 else {
                throw fail("central directory entry \(i) at byte \(p) runs past the end of the directory")
            }
            let nameRange = (p + 46)..<(p + 46 + nameLength)
            guard let name = String(validating: bytes.slice(nameRange), as: UTF8.self) else {
                throw fail("central directory entry \(i) has a name that is not valid UTF-8")
            }
            let what = "entry \"\(name)\""
            guard names.insert(name).inserted else { throw fail("\(what) appears twice in the central directory") }
            if flags & 0x41 != 0 { throw fail("\(what) is encrypted") }
            guard method == 0 else {
                throw fail("\(what) is compressed (method \(method)\(method == 8 ? ", deflate" : "")); torch.save stores entries uncompressed")
            }

            // ZIP64: the saturated 32-bit fields are in the extra field, in this order.
            var fields = try Self.zip64Fields(bytes, extra: nameRange.upperBound..<(nameRange.upperBound + extraLength), what: "\(what) (central directory)", fail: fail)
            let dataSize = try size32 == .max ? fields.next("size") : UInt64(size32)
            let compressed = try compressed32 == .max ? fields.next("compressed size") : UInt64(compressed32)
            let offset = try offset32 == .max ? fields.next("local header offset") : UInt64(offset32)
            let disk = try disk16 == .max ? fields.next32("disk number") : UInt32(disk16)
            guard disk == 0 else { throw fail("\(what) starts on disk \(disk): multi-disk archives are not supported") }
            guard compressed == dataSize else {
                throw fail("\(what) is stored but its compressed size \(compressed) differs from its size \(dataSize)")
            }

            let local = try Self.checkLocal(bytes, offset: offset, dataSize: dataSize, flags: flags, method: method, crc: crc,
                                            name: nameRange, what: what, fail: fail)
            if checksums {
                let computed = CRC32.checksum(bytes.slice(local.data))
                guard computed == crc else {
                    throw fail("\(what) fails its CRC-32 check (stored \(hex(crc)), computed \(hex(computed))): the file is corrupt")
                }
            }
            entries.append(ZipEntry(name: name, data: local.data))
            spans.append((local.span, name))
            p = nameRange.upperBound + extraLength + commentLength
        }
        guard p == end else {
            throw fail("central directory holds \(end - p) bytes after its \(directory.count) entries")
        }

        // Entries may not overlap each other or run into the central directory.
        spans.sort { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(spans, spans.dropFirst()) where a.range.upperBound > b.range.lowerBound {
            throw fail("entries \"\(a.name)\" and \"\(b.name)\" overlap (bytes \(a.range) and \(b.range))")
        }
        if let last = spans.last, last.range.upperBound > directory.range.lowerBound {
            throw fail("entry \"\(last.name)\" (bytes \(last.range)) runs into the central directory at byte \(directory.range.lowerBound)")
        }
        self.entries = entries
    }

    /// Finds the end record (and the ZIP64 one, if any): where the central directory lies and how many
    /// entries it holds.
    private static func findDirectory(_ bytes: ArchiveBytes, fail: (String) -> TorchFormatError) throws(TorchFormatError) -> (range: Range<Int>, count: Int) {
        let size = bytes.count
        // The end record is 22 bytes plus a comment of at most 65535 that must reach the end of the file.
        var end = -1
        if size >= 22 {
            var pos = size - 22
            while pos >= max(0, size - 22 - 0xFFFF) {
                if bytes.u32(pos) == endSignature, Int(bytes.u16(pos + 20)) == size - 22 - pos { end = pos; break }
                pos -= 1
            }
        }
        guard end >= 0 else {
            // A pickle stream starting with PROTO 2 and torch's LONG1 magic number: the legacy format.
            if size >= 3, bytes.u8(0) == 0x80, bytes.u8(1) == 0x02, bytes.u8(2) == 0x8A {
                throw fail("is in the legacy torch.save format (PyTorch before 1.6, or _use_new_zipfile_serialization=False), not a ZIP archive; re-save it with a current torch")
            }
            throw fail(size < 22 ? "is \(size) bytes, too short for a ZIP archive (its end record alone is 22 bytes)"
                                 : "has no ZIP end-of-central-directory record: not a ZIP archive, or truncated")
        }
        let disk = bytes.u16(end + 4), directoryDisk = bytes.u16(end + 6)
        let countHere = bytes.u16(end + 8), count16 = bytes.u16(end + 10)
        let size32 = bytes.u32(end + 12), offset32 = bytes.u32(end + 16)
        var count = Int(count16), directorySize = Int(size32), directoryOffset = Int(offset32)
        var recordsStart = end

        if end >= 20, bytes.u32(end - 20) == zip64LocatorSignature {
            let locator = end - 20
            guard bytes.u32(locator + 4) == 0, bytes.u32(locator + 16) <= 1 else {
                throw fail("ZIP64 locator names another disk: multi-disk archives are not supported")
            }
            let recordOffset = bytes.u64(locator + 8)
            guard recordOffset <= UInt64(locator), UInt64(locator) - recordOffset >= 56 else {
                throw fail("ZIP64 end record offset \(recordOffset) leaves no room for the record before its locator at byte \(locator)")
            }
            let r = Int(recordOffset)
            guard bytes.u32(r) == zip64EndSignature else { throw fail("no ZIP64 end record at byte \(r), where its locator points") }
            let recordSize = bytes.u64(r + 4)
            guard recordSize == UInt64(locator - r - 12) else {
                throw fail("ZIP64 end record at byte \(r) says it is \(recordSize) + 12 bytes long, but its locator follows at byte \(locator)")
            }
            guard bytes.u32(r + 16) == 0, bytes.u32(r + 20) == 0, bytes.u64(r + 24) == bytes.u64(r + 32),
                  disk == 0 || disk == .max, directoryDisk == 0 || directoryDisk == .max else {
                throw fail("ZIP64 end record spans several disks: multi-disk archives are not supported")
            }
            // A 32-bit field is either its placeholder or the same value as the ZIP64 one.
            func wide(_ narrow: UInt64, _ placeholder: UInt64, _ value: UInt64, _ what: String) throws(TorchFormatError) -> Int {
                guard narrow == placeholder || narrow == value else {
                    throw fail("the end record and the ZIP64 end record disagree on the \(what) (\(narrow) and \(value))")
                }
                guard value <= UInt64(size) else { throw fail("ZIP64 end record gives a \(what) of \(value), more than the file's \(size) bytes") }
                return Int(value)
            }
            count = try wide(UInt64(count16), 0xFFFF, bytes.u64(r + 32), "entry count")
            directorySize = try wide(UInt64(size32), 0xFFFF_FFFF, bytes.u64(r + 40), "central directory size")
            directoryOffset = try wide(UInt64(offset32), 0xFFFF_FFFF, bytes.u64(r + 48), "central directory offset")
            recordsStart = r
        } else {
            guard count16 != .max, size32 != .max, offset32 != .max else {
                throw fail("end record holds ZIP64 placeholders but no ZIP64 locator precedes it")
            }
            guard disk == 0, directoryDisk == 0, countHere == count16 else {
                throw fail("end record spans several disks: multi-disk archives are not supported")
            }
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw fail("central directory (byte \(directoryOffset), \(directorySize) bytes) lies outside the file (\(size) bytes)")
        }
        guard directoryOffset + directorySize == recordsStart else {
            throw fail("central directory ends at byte \(directoryOffset + directorySize) but the end record starts at byte \(recordsStart)")
        }
        guard count <= directorySize / 46 else {
            throw fail("end record counts \(count) entries, more than a \(directorySize)-byte central directory can hold")
        }
        return (directoryOffset..<(directoryOffset + directorySize), count)
    }

    /// Checks the local header at `offset` against the central directory's view of the entry; returns
    /// where the data lies and the whole span of the entry (header, data, descriptor).
    private static func checkLocal(_ bytes: ArchiveBytes, offset: UInt64, dataSize: UInt64, flags: UInt16, method: UInt16, crc: UInt32,
                                   name: Range<Int>, what: String, fail: @escaping (String) -> TorchFormatError)
        throws(TorchFormatError) -> (data: Range<Int>, span: Range<Int>) {
        let size = bytes.count
        guard size >= 30, offset <= UInt64(size - 30) else {
            throw fail("\(what): its local header offset \(offset) lies outside the file (\(size) bytes)")
        }
        let h = Int(offset)
        guard bytes.u32(h) == localSignature else { throw fail("\(what): no local header at byte \(h)") }
        let localFlags = bytes.u16(h + 6), localMethod = bytes.u16(h + 8), localCRC = bytes.u32(h + 14)
        let localCompressed = bytes.u32(h + 18), localSize = bytes.u32(h + 22)
        let nameLength = Int(bytes.u16(h + 26)), extraLength = Int(bytes.u16(h + 28))
        guard localFlags == flags, localMethod == method else {
            throw fail("\(what): local header flags \(hex(localFlags)) and method \(localMethod) differ from the central directory's (\(hex(flags)), \(method))")
        }
        guard nameLength + extraLength <= size - h - 30 else { throw fail("\(what): local header at byte \(h) runs past the end of the file") }
        guard nameLength == name.count, bytes.slice((h + 30)..<(h + 30 + nameLength)).elementsEqual(bytes.slice(name)) else {
            throw fail("\(what): the local header at byte \(h) names a different entry")
        }
        let dataStart = h + 30 + nameLength + extraLength
        guard dataSize <= UInt64(size - dataStart) else {
            throw fail("\(what): its \(dataSize) bytes from byte \(dataStart) run past the end of the file (\(size) bytes)")
        }
        let dataEnd = dataStart + Int(dataSize)

        if flags & 0x08 == 0 {
            // Sizes and CRC in the local header (ZIP64: sizes in its extra field, size first).
            var fields = try zip64Fields(bytes, extra: (h + 30 + nameLength)..<dataStart, what: "\(what) (local header)", fail: fail)
            let zip64 = localSize == .max || localCompressed == .max
            let stored = try zip64 ? fields.next("size") : UInt64(localSize)
            let compressed = try zip64 ? fields.next("compressed size") : UInt64(localCompressed)
            guard localCRC == crc, stored == dataSize, compressed == dataSize else {
                throw fail("\(what): local header (CRC \(hex(localCRC)), \(stored) bytes) disagrees with the central directory (CRC \(hex(crc)), \(dataSize) bytes)")
            }
            return (dataStart..<dataEnd, h..<dataEnd)
        }
        // A data descriptor follows the data: optional signature, CRC-32, then the two sizes in 4 or 8 bytes.
        guard localCRC == 0 || localCRC == crc else {
            throw fail("\(what): local header CRC \(hex(localCRC)) disagrees with the central directory's \(hex(crc))")
        }
        var d = dataEnd
        if size - d >= 4, bytes.u32(d) == descriptorSignature { d += 4 }
        guard size - d >= 4, bytes.u32(d) == crc else {
            throw fail("\(what): the data descriptor at byte \(dataEnd) is missing or disagrees with the central directory's CRC \(hex(crc))")
        }
        d += 4
        if size - d >= 8, UInt64(bytes.u32(d)) == dataSize, UInt64(bytes.u32(d + 4)) == dataSize { return (dataStart..<dataEnd, h..<(d + 8)) }
        if size - d >= 16, bytes.u64(d) == dataSize, bytes.u64(d + 8) == dataSize { return (dataStart..<dataEnd, h..<(d + 16)) }
        throw fail("\(what): the data descriptor at byte \(dataEnd) disagrees with the central directory's size \(dataSize)")
    }

    /// The payload of the ZIP64 extra field (id 1) inside `extra`, read field by field; the extra
    /// field list itself must be well formed.
    private static func zip64Fields(_ bytes: ArchiveBytes, extra: Range<Int>, what: String,
                                    fail: @escaping (String) -> TorchFormatError) throws(TorchFormatError) -> Zip64Fields {
        var p = extra.lowerBound
        var payload: Range<Int>?
        while p < extra.upperBound {
            guard extra.upperBound - p >= 4 else { throw fail("\(what): extra field is truncated") }
            let id = bytes.u16(p), length = Int(bytes.u16(p + 2))
            guard length <= extra.upperBound - p - 4 else { throw fail("\(what): extra field \(hex(id)) runs past the end of the extra data") }
            if id == 1 {
                guard payload == nil else { throw fail("\(what): two ZIP64 extra fields") }
                payload = (p + 4)..<(p + 4 + length)
            }
            p += 4 + length
        }
        return Zip64Fields(bytes: bytes, payload: payload ?? extra.upperBound..<extra.upperBound, what: what, fail: fail)
    }
}

/// Reads the values of a ZIP64 extra field in order, each checked to be present.
private struct Zip64Fields {
    let bytes: ArchiveBytes
    var payload: Range<Int>
    let what: String
    let fail: (String) -> TorchFormatError

    mutating func next(_ field: String) throws(TorchFormatError) -> UInt64 {
        guard payload.count >= 8 else { throw fail("\(what): the \(field) is a ZIP64 placeholder but the ZIP64 extra field lacks it") }
        defer { payload = (payload.lowerBound + 8)..<payload.upperBound }
        let v = bytes.u64(payload.lowerBound)
        guard v <= UInt64(bytes.count) else { throw fail("\(what): ZIP64 \(field) \(v) is more than the file's \(bytes.count) bytes") }
        return v
    }

    mutating func next32(_ field: String) throws(TorchFormatError) -> UInt32 {
        guard payload.count >= 4 else { throw fail("\(what): the \(field) is a ZIP64 placeholder but the ZIP64 extra field lacks it") }
        defer { payload = (payload.lowerBound + 4)..<payload.upperBound }
        return bytes.u32(payload.lowerBound)
    }
}

func hex<T: FixedWidthInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }
