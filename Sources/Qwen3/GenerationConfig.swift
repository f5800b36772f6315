import Foundation
import JSON

/// What generation_config.json says about stopping and sampling. Only the keys used here are read.
public struct GenerationConfig: Decodable, Sendable {
    public var eosTokenIds: [Int] = []
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?

    enum CodingKeys: String, CodingKey {
        case eosTokenIds = "eos_token_id", temperature, topK = "top_k", topP = "top_p"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.eosTokenIds), try !c.decodeNil(forKey: .eosTokenIds) {
            if let one = try? c.decode(Int.self, forKey: .eosTokenIds) { eosTokenIds = [one] }
            else { eosTokenIds = try c.decode([Int].self, forKey: .eosTokenIds) }
        }
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
    }

    /// Reads `directory/generation_config.json`; an absent file gives the empty configuration.
    public static func load(directory: URL) throws -> GenerationConfig {
        let url = directory.appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return GenerationConfig() }
        return try decodeJSONFile(GenerationConfig.self, at: url)
    }
}
