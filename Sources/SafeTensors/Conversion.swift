import Compute

/// Element conversions between the stored types and float32: tight loops over raw buffers, split over
/// the cores with `Parallel.forChunks` because they run over whole checkpoints.
enum Conversion {
    /// Elements per parallel chunk: enough work to pay for a thread hop.
    static let grain = 1 << 16

    /// A tensor whose buffer the caller fills completely. Skips `Tensor(zeros:)`'s zero fill, which
    /// would touch every page of a large weight once more before the conversion writes it.
    static func uninitializedTensor(_ shape: [Int], count: Int) -> Tensor {
        let owner = FloatBuffer(count: count)
        return Tensor(shape: shape, borrowing: owner.pointer, owner: owner)
    }

    /// bfloat16 is the top half of a float32, so widening is exact: a shift.
    static func bf16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        let aligned = Int(bitPattern: src) % 2 == 0
        Parallel.forChunks(count, grain: grain) { range in
            let out = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt32.self)
            if aligned {
                let p = src.assumingMemoryBound(to: UInt16.self)
                for i in range { out[i] = UInt32(p[i]) << 16 }
            } else {
                for i in range { out[i] = UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16 }
            }
        }
    }

    static func f16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: grain) { range in
            for i in range { dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        }
    }

    static func f32Copy(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
    }

    static func f64ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: grain) { range in
            for i in range { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        }
    }

    /// IEEE binary16 → binary32, exact for every input (subnormals, infinities, NaN payloads).
    @inline(__always)
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent != 0 { return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13) }
        // Subnormal (or zero): mantissa × 2^-24, exact in float32.
        let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
        return Float(bitPattern: sign | magnitude.bitPattern)
    }

    /// float32 → bfloat16 as `tensor.to(torch.bfloat16)` rounds on the CPU: round to nearest, ties to
    /// even; every NaN becomes 0xFFFF (torch's vectorised path; its scalar path would give 0x7FC0).
    @inline(__always)
    static func floatToBF16(_ f: Float) -> UInt16 {
        if f.isNaN { return 0xFFFF }
        let bits = f.bitPattern
        let bias = ((bits >> 16) & 1) &+ 0x7FFF
        return UInt16(truncatingIfNeeded: (bits &+ bias) >> 16)
    }

    /// float32 → binary16, round to nearest, ties to even (as torch and IEEE); overflow → ±inf;
    /// NaN stays NaN, quieted, with its sign and the top 10 payload bits kept (as torch's F16C path).
    @inline(__always)
    static func floatToHalf(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let absBits = bits & 0x7FFF_FFFF
        if absBits > 0x7F80_0000 { return sign | 0x7E00 | UInt16((absBits >> 13) & 0x3FF) }  // NaN
        // ≥ 65536 (or inf) → inf; [65520, 65536) rounds up to inf in the normal path below.
        if absBits >= 0x4780_0000 { return sign | 0x7C00 }
        let exponent = Int(absBits >> 23) - 127
        if exponent >= -14 {
            // Normal half: keep 10 mantissa bits, round the dropped 13 to nearest even.
            var m = (absBits & 0x007F_FFFF) | 0x0080_0000
            let dropped = m & 0x1FFF
            m >>= 13
            var e = UInt32(exponent + 15)
            if dropped > 0x1000 || (dropped == 0x1000 && (m & 1) == 1) { m += 1 }
            if m == 0x800 { m = 0x400; e += 1 }                    // mantissa overflowed into the exponent
            if e >= 31 { return sign | 0x7C00 }
            return sign | UInt16(e << 10) | UInt16(m & 0x3FF)
        }
        if exponent < -25 { return sign }                               // below half the smallest subnormal
        // Subnormal half: value = m × 2^-24 with m rounded to nearest even.
        let full = (absBits & 0x007F_FFFF) | 0x0080_0000           // 24-bit significand, value = full × 2^(exponent-23)
        let shift = UInt32(-exponent - 1)                            // 2^(exponent-23) / 2^-24 = 2^(exponent+1)
        var m = full >> shift
        let rem = full & ((1 << shift) - 1)
        let half = UInt32(1) << (shift - 1)
        if rem > half || (rem == half && (m & 1) == 1) { m += 1 }
        return sign | UInt16(m)                                         // m == 0x400 becomes the smallest normal: correct
    }
}

/// Owns a float buffer for a tensor built with `Tensor(shape:borrowing:owner:)`.
///
/// Transparent huge pages were tried for large buffers: conversions got faster once memory was warm,
/// but the first allocation stalled for seconds in kernel compaction, and a model load is all first
/// allocations. Plain pages are predictable.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    init(count: Int) { pointer = .allocate(capacity: max(count, 1)) }
    deinit { pointer.deallocate() }
}
