/// Token embedding lookup: out[t, :] = table[ids[t], :].
public enum Embedding {
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, ids: UnsafePointer<Int32>,
        tokens: Int, dim: Int
    ) {
        for t in 0..<tokens {
            (out + t * dim).update(from: table + Int(ids[t]) * dim, count: dim)
        }
    }

    /// The same from a table in its stored element type (bfloat16 rows widened).
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, table: WeightMatrix, ids: UnsafePointer<Int32>, tokens: Int, dim: Int
    ) {
        for t in 0..<tokens { table.copyRow(Int(ids[t]), into: out + t * dim) }
    }

    /// dTable[ids[t], :] += dOut[t, :]. One thread: repeated ids add into the same row.
    public static func backward(
        dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, ids: UnsafePointer<Int32>,
        tokens: Int, dim: Int
    ) {
        for t in 0..<tokens {
            Vector.add(dOut + t * dim, into: dTable + Int(ids[t]) * dim, dim)
        }
    }
}
